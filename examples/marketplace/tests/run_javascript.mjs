// Runs README.md's JavaScript examples for tests/test_marketplace_readme.py, one Node.js
// process for many examples (starting Node for each would cost more than the calls):
// each line of stdin is a JSON string of an ES module's body, run as an async function
// with its own console; each answer is one JSON line {"output": ..., "error": ...}.
import * as readline from 'node:readline';

const AsyncFunction = (async () => {}).constructor;
for await (const line of readline.createInterface({input: process.stdin})) {
  const printed = [];
  const console = {log: (...args) => printed.push(args.join(' '))};
  let error = null;
  try {
    await new AsyncFunction('console', JSON.parse(line))(console);
  } catch (exc) {
    error = String(exc && exc.stack || exc);
  }
  process.stdout.write(JSON.stringify({output: printed.join('\n'), error}) + '\n');
}
