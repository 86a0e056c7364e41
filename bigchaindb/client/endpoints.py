"""The resources of a node's API, one class each, as the client exposes them."""

from bigchaindb.client.offchain import (
    fulfill_transaction,
    inputs_of,
    merge_signatures,
    prepare_transaction,
    sign_partially,
)

API = "/api/v1"


class Endpoint:
    def __init__(self, transport):
        self.transport = transport


class TransactionsEndpoint(Endpoint):
    """``/transactions`` and ``/statuses``: make, send and follow transactions."""

    prepare = staticmethod(prepare_transaction)
    fulfill = staticmethod(fulfill_transaction)
    inputs_of = staticmethod(inputs_of)
    sign_partially = staticmethod(sign_partially)
    merge_signatures = staticmethod(merge_signatures)

    def send(self, transaction):
        """Post a signed transaction; returns it as the node accepted it (202)."""
        return self.transport.request("POST", f"{API}/transactions", json=transaction)

    def retrieve(self, txid):
        """The transaction ``txid`` from a VALID (else UNDECIDED) block; NotFoundError otherwise."""
        return self.transport.request("GET", f"{API}/transactions/{txid}")

    def status(self, txid):
        """``{"status": "backlog" | "undecided" | "valid" | "invalid"}`` of ``txid``.

        The node answers 303 once the transaction is in a block; the client
        reads that answer's body rather than following the redirect.
        """
        return self.transport.request("GET", f"{API}/statuses/{txid}")

    def get(self, *, owners_after=None, asset_id=None, operation=None, metadata_id=None, fulfilled=None):
        """Transactions in VALID or UNDECIDED blocks: by owner (``fulfilled``
        True or False to keep only spent or unspent outputs), by asset
        (optionally of one ``operation``), or by metadata id."""
        params = {"owners_after": owners_after, "asset_id": asset_id, "operation": operation,
                  "metadata_id": metadata_id,
                  "fulfilled": None if fulfilled is None else str(bool(fulfilled)).lower()}
        return self.transport.request_all(f"{API}/transactions",
                                          params={k: v for k, v in params.items() if v is not None})


class OutputsEndpoint(Endpoint):
    """``/outputs``: the outputs a key holds, without their transactions."""

    def get(self, public_key, unspent=None):
        """``[{"transaction_id", "output_index", "amount", "asset_id", "owners_after"}]`` of the
        outputs ``public_key`` is among the owners of, in VALID or UNDECIDED blocks (every
        page); ``unspent=True`` keeps only those not yet spent, ``False`` only the spent ones."""
        params = {"public_key": public_key}
        if unspent is not None:
            params["spent"] = "false" if unspent else "true"
        return self.transport.request_all(f"{API}/outputs", params=params)


class DataEndpoint(Endpoint):
    """``/assets`` or ``/metadata`` (``kind``): search the data of assets or metadata, or get one."""

    def __init__(self, transport, kind):
        super().__init__(transport)
        self.kind = kind

    def get(self, *, search, limit=None):
        """``[{"id", "data"}]`` whose data holds the most of the words of ``search``
        first (one page: at most ``limit``, 100 unless given), as 1.x drivers ask."""
        params = {"search": search, **({"limit": limit} if limit else {})}
        return self.transport.request("GET", f"{API}/{self.kind}", params=params)

    def retrieve(self, data_id):
        """``{"id", "data"}`` of the asset (metadata) ``data_id``; NotFoundError when none is live."""
        return self.transport.request("GET", f"{API}/{self.kind}/{data_id}")


class BlocksEndpoint(Endpoint):
    def retrieve(self, block_id, status="VALID"):
        return self.transport.request("GET", f"{API}/blocks/{block_id}", params={"status": status})

    def get(self, *, txid, status=None):
        """Blocks holding transaction ``txid``, optionally only those of ``status``."""
        params = {"tx_id": txid, **({"status": status} if status else {})}
        return self.transport.request_all(f"{API}/blocks", params=params)


class VotesEndpoint(Endpoint):
    def get(self, *, block_id, voter=None):
        params = {"block_id": block_id, **({"voter": voter} if voter else {})}
        return self.transport.request_all(f"{API}/votes", params=params)

