"""The fleet scenario: an AWS Organization in moto, audited through a role in each account.

    management 123456789012   the caller (the security account's runner); nothing seeded
    payments-prod             the eks001 scenario (an idle EKS cluster and its busy twin)
    storefront-prod           the vpc002 scenario (ECR endpoints without the S3 gateway)
    sandbox                   its role cannot be assumed (DenyProxy answers AccessDenied)
    retired                   closed: SUSPENDED, so `--org` must leave it out

moto lets any role be assumed, so the one refusal is made by DenyProxy, a loopback HTTP
proxy in front of moto that answers sts:AssumeRole for one role ARN with the error AWS
sends, and forwards everything else unchanged.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from dataclasses import dataclass, field

from seed import Expect, publish_pulled_images, seed_eks001, seed_vpc002

MEMBER_ROLE = "awsaudit-member"
EXTERNAL_ID = "fleet-e2e-ext-4f1c9a"
MANAGEMENT = "123456789012"


@dataclass
class FleetSeed:
    accounts: dict[str, str]  # name -> id, ACTIVE accounts (the management account included)
    denied: str  # the account whose role cannot be assumed
    suspended: str  # closed: not ACTIVE
    regions: list[str]
    # account id -> (must, must_not) expectations for that account's findings
    expectations: dict[str, tuple[list[Expect], list[Expect]]] = field(default_factory=dict)

    def role_arn(self, account: str) -> str:
        return f"arn:aws:iam::{account}:role/{MEMBER_ROLE}"


def _trust(principal_account: str) -> str:
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": f"arn:aws:iam::{principal_account}:root"},
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}]})


def seed_fleet(session) -> FleetSeed:
    """Seeds the organization; `session` is the management account's EndpointSession."""
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = {}
    for name in ("payments-prod", "storefront-prod", "sandbox", "retired"):
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        ids[name] = status["AccountId"]
    org.close_account(AccountId=ids["retired"])
    expectations = {}
    for name, scenario in (("payments-prod", seed_eks001), ("storefront-prod", seed_vpc002)):
        member = session.in_account(ids[name])
        seeded = scenario(member)
        publish_pulled_images(member, seeded.regions)
        expectations[ids[name]] = (seeded.must, seeded.must_not)
    for account in [MANAGEMENT] + [ids[n] for n in ("payments-prod", "storefront-prod", "sandbox")]:
        member = session if account == MANAGEMENT else session.in_account(account)
        member.client("iam").create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=_trust(MANAGEMENT))
    active = {"management": MANAGEMENT, **{n: ids[n] for n in ("payments-prod", "storefront-prod", "sandbox")}}
    return FleetSeed(accounts=active, denied=ids["sandbox"], suspended=ids["retired"],
                     regions=["us-east-1"], expectations=expectations)


ACCESS_DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:sts::{caller}:assumed-role/awsaudit-runner/awsaudit is not authorized to perform: sts:AssumeRole on resource: {role}</Message>
  </Error>
  <RequestId>00000000-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>
"""


class DenyProxy:
    """127.0.0.1 proxy to moto: refuses sts:AssumeRole of `denied_roles`, forwards the rest."""

    def __init__(self, upstream: str, denied_roles: set[str]) -> None:
        parsed = urllib.parse.urlparse(upstream)
        self.upstream = (parsed.hostname, parsed.port)
        self.denied_roles = denied_roles
        self.refused = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
                if form.get("Action") == ["AssumeRole"] and form.get("RoleArn", [""])[0] in proxy.denied_roles:
                    proxy.refused += 1
                    payload = ACCESS_DENIED.format(caller=MANAGEMENT, role=form["RoleArn"][0]).encode()
                    self.send_response(403)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DenyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
