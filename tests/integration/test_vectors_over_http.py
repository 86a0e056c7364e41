"""The shared vectors posted in order to a running node, as a 0.8 client would."""

from tests.vectors import load_vectors


def test_every_vector_is_judged_as_expected(node):
    for vector in load_vectors():
        tx = vector["tx"]
        response = node.post(tx)
        if vector["expect"] == "valid":
            assert response.status_code == 202, (vector["name"], response.text)
            assert response.headers["Location"].endswith(f"/api/v1/statuses/{tx['id']}")
            node.wait_for_status(tx["id"], "valid")
        else:
            assert response.status_code == 400, (vector["name"], response.text)
            body = response.json()
            assert body["status"] == 400 and body["message"], vector["name"]
            assert node.status(tx["id"]) is None, vector["name"]
