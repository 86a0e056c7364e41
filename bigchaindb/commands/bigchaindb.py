"""``bigchaindb``: configure, initialise and run a node.

Thin on purpose: each command parses its options, loads the configuration
and calls the layer that does the work.  click gives us subcommands, help
texts, prompts and confirmation with far less code than argparse.
"""

import copy
import json
import logging
import os
import sys

import click

from bigchaindb import __version__, backend, config as node_config
from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDoesNotExist, DatabaseError
from bigchaindb.common.crypto import generate_key_pair, use_hash
from bigchaindb.common.exceptions import BigchainDBError
from bigchaindb.core import Bigchain


class Context:
    def __init__(self, config_path):
        self.config_path = node_config.config_path(config_path)

    def load(self):
        """The configuration; its ``hash`` is the one this process makes ids with from now on."""
        config = node_config.load(self.config_path)
        use_hash(config["hash"])
        return config


def new_config():
    """The defaults with a fresh keypair."""
    config = copy.deepcopy(node_config.DEFAULTS)
    private, public = generate_key_pair()
    config["keypair"] = {"public": public, "private": private}
    return config


def api_url(config):
    host, _, port = config["server"]["bind"].rpartition(":")
    host = {"0.0.0.0": "localhost", "": "localhost", "[::]": "localhost"}.get(host, host)
    return f"http://{host}:{port}/"


def initialise(config):
    """Create the tables and write the genesis block."""
    connection = backend.connect(config["database"])
    connection.init()
    Bigchain.from_config(config, connection).create_genesis_block()


def where_data_lives(config):
    database = config["database"]
    if database["backend"] == "sqlite":
        return database["path"]
    return f"{database['backend']} at {database['host']}:{database['port']}, database {database['name']}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", "config_path", metavar="PATH",
              help="Config file (default: $BIGCHAINDB_CONFIG_PATH or ~/.bigchaindb).")
@click.version_option(__version__, prog_name="bigchaindb")
@click.pass_context
def cli(ctx, config_path):
    """Run a BigchainDB node."""
    ctx.obj = Context(config_path)


@cli.command()
@click.option("-y", "--yes", is_flag=True, help="Take every default without asking.")
@click.pass_obj
def configure(ctx, yes):
    """Write a config file with a new keypair."""
    path = ctx.config_path
    if os.path.exists(path) and not yes:
        click.confirm(f"{path} exists; replace it (and its keypair)?", abort=True)
    config = new_config()
    if not yes:
        server, database = config["server"], config["database"]
        server["bind"] = click.prompt("API server bind (host:port)", default=server["bind"])
        database["backend"] = click.prompt("Database backend", default=database["backend"],
                                           type=click.Choice(backend.ENGINES))
        if database["backend"] == "sqlite":
            database["path"] = click.prompt("Database file", default=database["path"])
        else:
            database["host"] = click.prompt("Database host", default=database["host"])
            database["port"] = click.prompt("Database port", default=database["port"], type=int)
            database["name"] = click.prompt("Database name", default=database["name"])
        keyring = click.prompt("Keyring: public keys of the other nodes, colon-separated",
                               default="", show_default=False)
        config["keyring"] = [key for key in keyring.split(":") if key]
    node_config.write_file(config, path)
    click.echo(f"Configuration written to {path}")


@cli.command("show-config")
@click.pass_obj
def show_config(ctx):
    """Print the configuration in force (private key masked)."""
    click.echo(json.dumps(node_config.masked(ctx.load()), indent=4, sort_keys=True))


@cli.command("export-my-pubkey")
@click.pass_obj
def export_my_pubkey(ctx):
    """Print this node's public key."""
    public = ctx.load()["keypair"]["public"]
    if not public:
        raise click.ClickException("no keypair configured; run 'bigchaindb configure' first")
    click.echo(public)


@cli.command()
@click.pass_obj
def init(ctx):
    """Create the database, its tables and the genesis block."""
    config = ctx.load()
    _require_keypair(config)
    try:
        initialise(config)
    except DatabaseAlreadyExists:
        raise click.ClickException(f"the database is already initialised ({where_data_lives(config)})") from None
    click.echo(f"Initialised the database ({where_data_lives(config)})")


@cli.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def drop(ctx, yes):
    """Delete the database and everything in it."""
    config = ctx.load()
    if not yes:
        click.confirm(f"Delete every block, vote and transaction in {where_data_lives(config)}?", abort=True)
    try:
        backend.connect(config["database"]).drop()
    except DatabaseDoesNotExist:
        raise click.ClickException(f"there is no database to drop ({where_data_lives(config)})") from None
    click.echo(f"Dropped the database ({where_data_lives(config)})")


@cli.command()
@click.pass_obj
def start(ctx):
    """Start the node (creating a config and database on first run)."""
    from bigchaindb import processes
    config = ctx.load()
    if not os.path.exists(ctx.config_path) and not config["keypair"]["private"]:
        fresh = new_config()
        node_config.write_file(fresh, ctx.config_path)
        click.echo(f"No configuration found: wrote a new one with a new keypair to {ctx.config_path}")
        config = ctx.load()
    _require_keypair(config)
    logging.basicConfig(level=config["log"]["level"], format=processes.LOG_FORMAT)
    connection = backend.connect(config["database"])
    if not connection.is_initialised():
        initialise(config)
        click.echo(f"Initialised a new database ({where_data_lives(config)})")
    stored_hash = connection.stored_hash()
    connection.close()
    if stored_hash != config["hash"]:
        raise click.ClickException(
            f"the database ({where_data_lives(config)}) was made with hash {stored_hash}, but this node's "
            f"hash setting is {config['hash']}: every id in it is a {stored_hash} hash. Set hash to "
            f"{stored_hash} to run on it, or use another database")
    click.echo(f"Configuration: {ctx.config_path}")
    click.echo(f"Data: {where_data_lives(config)}")
    click.echo(f"Public key: {config['keypair']['public']}")
    click.echo(f"API: {api_url(config)}  (Ctrl-C stops the node)")
    processes.start(config)


@cli.command("set-shards")
@click.argument("shards", type=click.IntRange(min=1))
@click.pass_obj
def set_shards(ctx, shards):
    """Shard every RethinkDB table N ways."""
    _reconfigure(ctx, "set_shards", shards)


@cli.command("set-replicas")
@click.argument("replicas", type=click.IntRange(min=1))
@click.pass_obj
def set_replicas(ctx, replicas):
    """Keep N replicas of every RethinkDB table."""
    _reconfigure(ctx, "set_replicas", replicas)


def _reconfigure(ctx, function, number):
    config = ctx.load()
    if config["database"]["backend"] != "rethinkdb":
        raise click.ClickException("shards and replicas are RethinkDB settings; database.backend is "
                                   f"{config['database']['backend']!r}")
    from bigchaindb.backend.rethinkdb import admin
    getattr(admin, function)(backend.connect(config["database"]), number)
    click.echo(f"{function.replace('_', ' ')} to {number}")


@cli.command("export")
@click.argument("file", type=click.File("wb"), default="-")
@click.pass_obj
def export(ctx, file):
    """Write the whole ledger (blocks and votes, in order) as JSON lines to FILE (default: stdout)."""
    from bigchaindb import ledger_file
    config = ctx.load()
    blocks, votes = ledger_file.export_ledger(backend.connect(config["database"]), file)
    click.echo(f"Exported {blocks} blocks and {votes} votes from {where_data_lives(config)}", err=True)


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def import_(ctx, file):
    """Check a ledger FILE made by `export`, then load it into a new store."""
    from bigchaindb import ledger_file
    config = ctx.load()
    try:
        blocks, votes = ledger_file.import_ledger(backend.connect(config["database"]), file)
    except DatabaseAlreadyExists as exc:
        raise click.ClickException(f"{exc} ({where_data_lives(config)})") from None
    click.echo(f"Imported {blocks} blocks and {votes} votes into {where_data_lives(config)}")


def _require_keypair(config):
    if not (config["keypair"]["public"] and config["keypair"]["private"]):
        raise click.ClickException("no keypair configured; run 'bigchaindb configure' first")


def main():
    try:
        cli(standalone_mode=True)
    except (BigchainDBError, DatabaseError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
