"""``bigchaindb``: configure, initialise and run a node.

Thin on purpose: each command parses its options, loads the configuration
and calls the layer that does the work.  click gives us subcommands, help
texts, prompts and confirmation with far less code than argparse.
"""

import copy
import json
import os
import sys

import click

from bigchaindb import __version__, backend, config as node_config, logs
from bigchaindb.backend.base import MISSING, UNINITIALISED
from bigchaindb.backend.exceptions import (
    DatabaseAlreadyExists, DatabaseDamaged, DatabaseDoesNotExist, DatabaseError)
from bigchaindb.common.crypto import generate_key_pair, use_hash
from bigchaindb.common.exceptions import BigchainDBError
from bigchaindb.core import Bigchain


class Context:
    """Which config file the command uses, and loading it."""

    def __init__(self, config_path=None):
        self.use(config_path)

    def use(self, config_path):
        # Named with -c or $BIGCHAINDB_CONFIG_PATH, a file must exist: a typo
        # must not quietly become a node with a new keypair.
        self.named = config_path or os.environ.get(node_config.CONFIG_PATH_ENV)
        self.config_path = node_config.config_path(config_path)

    def load(self):
        if self.named and not os.path.exists(self.config_path):
            raise click.ClickException(
                f"the config file {self.config_path} does not exist; make it with "
                f"`bigchaindb -c {self.config_path} configure`, or name another")
        config = node_config.load(self.config_path)
        use_hash(config["hash"])  # the hash this process makes ids with from now on
        return config


CONFIG_HELP = "Config file (default: $BIGCHAINDB_CONFIG_PATH or ~/.bigchaindb)."


class NodeCommands(click.Group):
    """The CLI's group: every subcommand takes -c too, so it may come before or after the subcommand."""

    def add_command(self, cmd, name=None):
        cmd.params.append(click.Option(["-c", "--config"], metavar="PATH", expose_value=False, help=CONFIG_HELP,
                                       callback=_use_config_path))
        super().add_command(cmd, name)


def _use_config_path(ctx, _param, value):
    if value is not None:
        ctx.find_object(Context).use(value)


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


def store_settings(config):
    """The settings that say which store a node uses."""
    if config["database"]["backend"] == "sqlite":
        return "database.backend and database.path"
    return "database.backend, .host, .port and .name"


@click.group(cls=NodeCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", "config_path", metavar="PATH", help=CONFIG_HELP)
@click.version_option(__version__, prog_name="bigchaindb")
@click.pass_context
def cli(ctx, config_path):
    """Run a BigchainDB node."""
    ctx.obj = Context(config_path)


@cli.command()
@click.option("-y", "--yes", is_flag=True, help="Take every default without asking.")
@click.option("--force", is_flag=True, help="Replace an existing config file, and the keypair in it.")
@click.pass_obj
def configure(ctx, yes, force):
    """Write a config file with a new keypair."""
    path = ctx.config_path
    if os.path.exists(path) and not force:
        raise click.ClickException(replacing_costs(path))
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
        node_config.check_file_data(config, "as answered")
    node_config.write_file(config, path)
    click.echo(f"Configuration written to {path}")


def replacing_costs(path):
    """Why ``configure`` will not overwrite ``path`` unless forced: what a new keypair costs."""
    try:
        public = node_config.read_file(path).get("keypair", {}).get("public")
    except BigchainDBError:
        public = None
    if not public:
        return f"{path} exists; edit it, or run `bigchaindb configure --force` to replace it"
    return (f"{path} exists and holds this node's keypair (public key {public}). A new keypair makes this "
            "node a stranger to its federation: the other nodes' keyrings name the old key, and this node "
            "would vote INVALID, for good, on every block already in the ledger. Edit the file to change "
            "settings; to replace it and its keypair anyway, keep a copy of it and run "
            "`bigchaindb configure --force`")


@cli.command("show-config")
@click.pass_obj
def show_config(ctx):
    """Print the configuration in force (private key masked)."""
    from bigchaindb.web.server import default_workers
    config = node_config.masked(ctx.load())
    config["server"]["workers"] = config["server"]["workers"] or default_workers()  # what start would run
    click.echo(json.dumps(config, indent=4, sort_keys=True))


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
    from bigchaindb.web.server import listen
    config = ctx.load()
    if not os.path.exists(ctx.config_path) and not config["keypair"]["private"]:
        fresh = new_config()
        node_config.write_file(fresh, ctx.config_path)
        click.echo(f"No configuration found: wrote a new one with a new keypair to {ctx.config_path}")
        config = ctx.load()
    _require_keypair(config)
    logs.setup(config["log"])
    # before any stage starts: an address in use is refused here, not by a
    # web stage failing again and again beside pipelines that run
    listener = listen(config["server"]["bind"])
    try:
        streams_listener = listen(node_config.streams_bind(config), "streams.bind")
    except BaseException:
        listener.close()
        raise
    try:
        open_ledger(config)
    except BaseException:
        listener.close()
        streams_listener.close()
        raise
    click.echo(f"Configuration: {ctx.config_path}")
    click.echo(f"Data: {where_data_lives(config)}")
    click.echo(f"Public key: {config['keypair']['public']}")
    click.echo(f"API: {api_url(config)}  (Ctrl-C stops the node)")
    click.echo(f"Streams: ws://{node_config.streams_bind(config)}/api/v1/streams/")
    processes.start(config, listener, streams_listener)


def open_ledger(config):
    """Check the store a node is about to run on; make it if there is none at all.

    A store that is there but holds no ledger (an empty file, a database
    without its tables or genesis block) or that fails the engine's own
    check is refused, naming it: starting on it would serve a ledger that is
    not the one the operator has.  Only ``bigchaindb init`` makes a new
    ledger in a store that exists.
    """
    where = where_data_lives(config)
    connection = backend.connect(config["database"])
    try:
        click.echo(f"Checking the store ({where})")  # a big SQLite file takes a while: say why we wait
        try:
            state = connection.state()
        except DatabaseDamaged as exc:
            raise click.ClickException(
                f"{exc}. A node must not run on a damaged store: restore it from a backup; or move it aside "
                "and run `bigchaindb init` to start a new, empty ledger") from None
        if state == MISSING:
            initialise(config)
            click.echo(f"Initialised a new database ({where})")
        elif state == UNINITIALISED:
            raise click.ClickException(
                f"the store {where} exists but holds no ledger: it is empty, or `bigchaindb init` has not run "
                f"on it (or did not finish). Check that {store_settings(config)} name your store; "
                "`bigchaindb init` makes a new ledger in this one")
        elif connection.get_genesis_block() is None:
            raise click.ClickException(
                f"the store {where} has its tables but no genesis block: its `bigchaindb init` did not finish. "
                "`bigchaindb drop` then `bigchaindb init` make a new ledger in it")
        stored_hash = connection.stored_hash()
        if stored_hash != config["hash"]:
            raise click.ClickException(
                f"the store {where} was made with hash {stored_hash}, but this node's hash setting is "
                f"{config['hash']}: every id in it is a {stored_hash} hash. Set hash to {stored_hash} to run "
                "on it, or use another store")
        if connection.upgrade():
            click.echo(f"Upgraded the store ({where}) to this version's tables and indexes")
    finally:
        connection.close()


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
