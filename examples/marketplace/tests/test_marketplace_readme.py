"""Every example of README.md, in shell, Python and JavaScript, run against live servers.

Each language walks the README's routes as its participants would, the
three languages at once: the placeholders (``<order_id>``, ...) are filled
with what earlier examples answered, or with orders the test placed itself
over HTTP, and each answer must have the keys the README shows.
"""

import json
import os
import re
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

EXAMPLE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# one market (node and servers) per test process: keep its tests together under xdist
pytestmark = pytest.mark.xdist_group("marketplace")

README = os.path.join(EXAMPLE, "README.md")
SHOWN_URL = "http://localhost:18469"
LANGUAGES = ["bash", "python", "javascript"]
# POST /profile changes the caller's own profile: each language changes another's
PROFILE_CALLER = {"bash": "vendor", "python": "buyer", "javascript": "moderator"}


def routes():
    """``{"POST purchase_contract": {"caller", "bash", "python", "javascript", "response"}}`` from README.md."""
    with open(README) as readme:
        text = readme.read()
    found = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        heading = section.splitlines()[0]
        method, route = heading.split(" /api/v1/")
        blocks = dict(re.findall(r"```(\w+)\n(.*?)\n```", section, flags=re.S))
        caller = re.search(r"Called by: the (\w+)\.", section).group(1)
        found[f"{method} {route}"] = dict(blocks, caller=caller, response=json.loads(blocks["json"]))
    return found


ROUTES = routes()


def test_the_readme_documents_every_route_in_three_languages():
    assert len(ROUTES) == 19
    for route, example in ROUTES.items():
        assert set(LANGUAGES) <= set(example), route


class Walk:
    """One language's run through the README against the market's servers."""

    def __init__(self, market, language, directory):
        self.market, self.language = market, language
        self.directory = directory
        self.node = None
        self.node_lock = threading.Lock()
        self.values = {"<moderator_guid>": market.moderator.guid, "<vendor_guid>": market.vendor.guid,
                       "<buyer_guid>": market.buyer.guid}
        if language == "javascript":
            self.node = subprocess.Popen(["node", os.path.join(os.path.dirname(__file__), "run_javascript.mjs")],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def close(self):
        if self.node is not None:
            self.node.stdin.close()
            self.node.wait(10)

    def run(self, route, caller=None, **values):
        """Run the example of ``route`` as ``caller`` (default: the README's); its JSON answer."""
        example = ROUTES[route]
        server = getattr(self.market, caller or example["caller"])
        code = example[self.language].replace(SHOWN_URL, server.url)
        for placeholder, value in dict(self.values, **values).items():
            code = code.replace(placeholder, value)
        assert "<" not in re.sub(r"<<|</", "", code), code  # every placeholder filled
        if route != "POST login":
            code = self.login(server) + code
        output = self.execute(code, server.name)
        answer = json.loads(output.strip().splitlines()[-1])
        documented = example["response"]
        assert set(answer) == set(documented), (route, answer)
        if "success" in documented:
            assert answer["success"] is True, (route, answer)
        for key, shown in documented.items():
            if isinstance(shown, list) and shown and isinstance(shown[0], dict):
                shown, given = shown[0], answer[key][0] if answer[key] else {}
            else:
                given = answer[key]
            if isinstance(shown, dict) and "..." not in shown:
                assert set(given) == set(shown), (route, key, given)
        return answer

    def login(self, server):
        form = {"username": server.name, "password": server.password}
        if self.language == "bash":
            return (f"curl -s -c cookies.txt -o /dev/null -X POST {server.api}/login "
                    f"-d username={server.name} -d password={server.password}\n")
        if self.language == "python":
            return f"import requests\nsession = requests.Session()\nsession.post('{server.api}/login', data={form!r})\n"
        return (f"const cookie = (await fetch('{server.api}/login', {{method: 'POST', body: new URLSearchParams("
                f"{json.dumps(form)})}})).headers.get('set-cookie').split(';')[0];\n")

    def execute(self, code, name):
        if self.language == "python":
            # in this process (a fresh namespace each time; print captured): starting an
            # interpreter and importing requests per example would cost more than the call
            printed = []
            exec(compile(code, f"README.md ({name})", "exec"), {"print": lambda *a: printed.append(" ".join(map(str, a)))})
            return "\n".join(printed)
        if self.language == "javascript":
            with self.node_lock:  # one example at a time through the one process
                self.node.stdin.write(json.dumps(code) + "\n")
                self.node.stdin.flush()
                done = json.loads(self.node.stdout.readline())
            assert done["error"] is None, (code, done)
            return done["output"]
        directory = os.path.join(self.directory, name)  # each participant its own cookies.txt
        os.makedirs(directory, exist_ok=True)
        done = subprocess.run(["bash", "-e", "-c", code], cwd=directory, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, (code, done.stdout, done.stderr)
        return done.stdout


def at_once(*calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


@pytest.mark.skipif(not (shutil.which("node") and shutil.which("curl")), reason="needs Node.js and curl")
def test_every_example_of_the_readme_runs_against_live_servers(market, tmp_path):
    at_once(*[lambda language=language: walk(market, language, str(tmp_path / language)) for language in LANGUAGES])


def walk(market, language, directory):
    readme = Walk(market, language, directory)
    try:
        steps(market, readme)
    finally:
        readme.close()


def steps(market, readme):
    language = readme.language
    buyer = market.buyer
    readme.run("POST login")
    assert readme.run("GET profile")["profile"]["guid"] == market.moderator.guid
    _, listed = at_once(lambda: readme.run("POST profile", caller=PROFILE_CALLER[language]),
                        lambda: readme.run("POST contracts"))
    readme.values["<contract_id>"] = listed["id"]
    assert readme.run("GET contracts")["vendor_offer"]["id"] == readme.values["<contract_id>"]
    assert readme.values["<contract_id>"] in [listing["id"] for listing in readme.run("GET get_listings")["listings"]]

    def order():
        return buyer.post("purchase_contract", id=readme.values["<contract_id>"],
                          moderator=market.moderator.guid)["order_id"]
    completed, refunded, disputed = at_once(lambda: readme.run("POST purchase_contract")["order_id"], order, order)
    at_once(lambda: readme.run("POST confirm_order", **{"<order_id>": completed}),
            lambda: readme.run("POST refund", **{"<order_id>": refunded}),
            lambda: readme.run("POST dispute_contract", **{"<order_id>": disputed}))
    at_once(lambda: readme.run("POST complete_order", **{"<order_id>": completed}),
            lambda: readme.run("POST close_dispute", **{"<order_id>": disputed}))
    readme.run("POST release_funds", **{"<order_id>": disputed})
    assert readme.run("GET get_order", **{"<order_id>": disputed})["status_name"] == "RESOLVED"
    for route in ("GET get_sales", "GET get_purchases", "GET get_cases"):
        readme.run(route)
    notification = readme.run("GET notifications")["notifications"][0]["id"]
    readme.run("POST mark_notification_as_read", **{"<notification_id>": notification})
