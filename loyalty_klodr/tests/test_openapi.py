"""The OpenAPI document (tools/openapi.py) matches the controller, and the server's real answers.

- every route of ``LoyaltyApi`` is a path and method of the document, and back;
- the document is valid OpenAPI 3.1 (openapi-spec-validator) and internally consistent;
- ``/openapi.json`` serves it, ``/docs`` renders it (escaped);
- real answers of the API (demo program) validate against the document's response schemas.
"""
import json
import re
import uuid
from urllib.parse import quote

from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.loyalty_klodr.controllers.api import LoyaltyApi
from odoo.addons.loyalty_klodr.controllers.docs import Renderer
from odoo.addons.loyalty_klodr.tools.openapi import (
    BASE_PATH,
    ERROR_CODES,
    SANDBOX,
    allowed_methods,
    openapi_document,
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOC_URN = "urn:klodr:loyalty:openapi"
COMPONENTS = ("Member", "Tier", "Redemption", "Error", "Reward", "LedgerEntry")


def controller_operations():
    """``{(path as in the document, method)}`` of the controller's routes."""
    operations = set()
    for name in dir(LoyaltyApi):
        routing = getattr(getattr(LoyaltyApi, name), "original_routing", None)
        if not routing:
            continue
        for route in routing["routes"]:
            assert route.startswith(BASE_PATH), route
            # werkzeug's <converter:name> / <converter(args):name> / <name> become {name}
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", route[len(BASE_PATH):])
            for method in routing.get("methods") or ["GET"]:
                operations.add((path, method.lower()))
    return operations


def document_operations(document):
    return {(path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS}


def pointer(*parts):
    """A JSON pointer (RFC 6901) as a URI fragment."""
    return "#/" + "/".join(quote(str(p).replace("~", "~0").replace("/", "~1"), safe="~") for p in parts)


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def walk(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


@tagged("post_install", "-at_install")
class TestOpenApiDocument(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc = openapi_document()

    def test_routes_and_paths_match(self):
        routes = controller_operations()
        documented = document_operations(self.doc)
        self.assertGreaterEqual(len(routes), 13, "the 12 operations of API.md and /openapi.json")
        self.assertFalse(routes - documented, "routes of the controller missing from the document")
        self.assertFalse(documented - routes, "operations of the document the controller does not serve")

    def test_allowed_methods_are_the_documented_ones(self):
        """What the API's 405 answers put in Allow: the document's methods of the path (HEAD with GET)."""
        for path, method in document_operations(self.doc):
            example = re.sub(r"{(\w+)}", "x-1", re.sub(r"{redemption_id}", "7", path))
            with self.subTest(path=path):
                self.assertIn(method.upper(), allowed_methods(example))
                self.assertEqual("HEAD" in allowed_methods(example), "GET" in allowed_methods(example))
        self.assertEqual(allowed_methods("/members/+919845012345"), ("GET", "HEAD"))
        self.assertEqual(allowed_methods("/members"), ("POST",))
        self.assertEqual(allowed_methods("/docs"), ("GET", "HEAD"))
        for unknown in ("/nope", "/members/a/b", "/redemptions/abc/confirm", "/redemptions/7", ""):
            self.assertEqual(allowed_methods(unknown), (), unknown)

    def test_path_parameters_are_declared(self):
        for path, method in document_operations(self.doc):
            with self.subTest(path=path, method=method):
                declared = {resolve(self.doc, p)["name"] for p in self.doc["paths"][path][method].get("parameters", [])
                            if resolve(self.doc, p)["in"] == "path"}
                self.assertEqual(declared, set(re.findall(r"{(\w+)}", path)))

    def test_valid_openapi_31(self):
        try:
            from openapi_spec_validator import validate  # noqa: PLC0415
            from openapi_spec_validator.validation import OpenAPIV31SpecValidator  # noqa: PLC0415
        except ImportError:
            self.skipTest("openapi-spec-validator is not installed (requirements.txt); the structural test still runs")
        self.assertEqual(self.doc["openapi"], "3.1.0")
        validate(self.doc, cls=OpenAPIV31SpecValidator)

    def test_structure(self):
        """What the spec validator does not check: references, errors, idempotency, components."""
        self.assertEqual(self.doc["openapi"], "3.1.0")
        self.assertEqual(self.doc["components"]["securitySchemes"]["bearerAuth"],
                         {**self.doc["components"]["securitySchemes"]["bearerAuth"], "type": "http",
                          "scheme": "bearer"})
        self.assertIn("sandbox", self.doc["info"]["description"].lower())
        self.assertIn("Klodr Rewards", self.doc["info"]["description"])
        for name in COMPONENTS:
            self.assertIn(name, self.doc["components"]["schemas"])
        for path, node in walk(self.doc):
            if isinstance(node, dict) and "$ref" in node:
                with self.subTest(ref=node["$ref"], at=path):
                    self.assertTrue(node["$ref"].startswith("#/components/"))
                    self.assertIsInstance(resolve(self.doc, node), dict)
        json.dumps(self.doc, allow_nan=False)  # JSON as it is served
        for path, method in document_operations(self.doc):
            operation = self.doc["paths"][path][method]
            public = operation.get("security") == []
            with self.subTest(path=path, method=method):
                self.assertTrue(operation.get("operationId"))
                responses = operation["responses"]
                if public:
                    continue
                self.assertIn("401", responses)
                self.assertIn("429", responses)
                self.assertIn("Retry-After", resolve(self.doc, responses["429"])["headers"])
                for status, response in responses.items():
                    if int(status) < 400:
                        continue
                    schema = resolve(self.doc, response)["content"]["application/json"]["schema"]
                    self.assertIn({"$ref": "#/components/schemas/Error"}, schema["allOf"])
                    codes = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
                    self.assertEqual(codes, ERROR_CODES[int(status)])
                names = {resolve(self.doc, p)["name"]: resolve(self.doc, p) for p in operation.get("parameters", [])}
                if method == "post":
                    self.assertIn("Idempotency-Key", names)
                    self.assertIn("Idempotent-Replayed", resolve(self.doc, responses[min(responses)])["headers"])
                else:
                    self.assertNotIn("Idempotency-Key", names)
        required = {path for path, method in document_operations(self.doc) if method == "post" and any(
            resolve(self.doc, p)["name"] == "Idempotency-Key" and resolve(self.doc, p)["required"]
            for p in self.doc["paths"][path][method].get("parameters", []))}
        self.assertEqual(required, {"/transactions", "/transactions/{order_ref}/refunds", "/redemptions",
                                    "/redemptions/{redemption_id}/confirm", "/redemptions/{redemption_id}/cancel",
                                    "/events"})
        business = set(ERROR_CODES[422])
        self.assertTrue({"otp_unavailable", "cap_reached", "code_invalid", "code_used", "code_expired",
                         "insufficient_points", "member_inactive"} <= business)

    def test_new_copy_each_call(self):
        first = openapi_document()
        first["paths"].clear()
        self.assertEqual(openapi_document(), self.doc)

    def test_reference_page_escapes_the_document(self):
        doc = openapi_document()
        doc["info"]["description"] = "<script>alert(1)</script> **bold** `<b>code</b>`"
        doc["paths"]["/programs"]["get"]["summary"] = '"><img src=x onerror=alert(2)>'
        html = Renderer(doc).page()
        self.assertNotIn("<script>", html)
        self.assertNotIn("<img", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertIn("<strong>bold</strong>", html)
        self.assertIn("<code>&lt;b&gt;code&lt;/b&gt;</code>", html)


@tagged("post_install", "-at_install")
class TestOpenApiServed(HttpCase):
    """The real server: what it serves and answers matches the document."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc = openapi_document()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def validator(self, schema):
        from jsonschema import Draft202012Validator  # noqa: PLC0415
        from referencing import Registry, Resource  # noqa: PLC0415
        from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

        registry = Registry().with_resource(DOC_URN, Resource(contents=self.doc, specification=DRAFT202012))
        return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def assertDocumented(self, response, path, method):
        """``response`` is a documented status of the operation, its body and headers match the schemas."""
        status = str(response.status_code)
        operation = self.doc["paths"][path][method]
        label = f"{method.upper()} {path} answered {status}: {response.text[:500]}"
        self.assertIn(status, operation["responses"], f"undocumented status: {label}")
        spec = resolve(self.doc, operation["responses"][status])
        self.assertEqual(response.headers.get("Content-Type", "").split(";")[0], "application/json", label)
        body = response.json()
        schema_ref = {"$ref": DOC_URN + pointer("paths", path, method, "responses", status, "content",
                                                  "application/json", "schema")}
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in self.validator(schema_ref).iter_errors(body)]
        self.assertFalse(errors, f"{label}\nschema violations: {errors}")
        for name, header in spec.get("headers", {}).items():
            header = resolve(self.doc, header)
            value = response.headers.get(name)
            if header.get("required"):
                self.assertIsNotNone(value, f"{label}: header {name} missing")
            if value is not None:
                self.assertFalse(list(self.validator(header["schema"]).iter_errors(value)),
                                 f"{label}: header {name}={value!r}")
        return body

    def api(self, method, path, token=None, body=None, params=None, idempotency=None):
        headers = {}
        if token is not False:
            headers["Authorization"] = f"Bearer {token or self.token}"
        if idempotency:
            headers["Idempotency-Key"] = idempotency
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        return self.url_open(BASE_PATH + path, data=data, headers=headers, params=params, method=method.upper())

    def demo(self):
        program = self.env.ref("loyalty_klodr.klodr_program_demo", raise_if_not_found=False)
        if not program:
            self.skipTest("the demo program (loyalty_klodr.klodr_program_demo) needs demo data: install with "
                          "--with-demo")
        self.key, self.token = self.env["klodr.api.key"]._generate("t", program.company_id)
        self.env.flush_all()  # the server reads the key with SQL
        member = self.env.ref("loyalty_klodr.klodr_member_asha")
        return program, member

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------
    def test_openapi_json_is_the_document(self):
        response = self.url_open(f"{BASE_PATH}/openapi.json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        self.assertEqual(response.json(), json.loads(json.dumps(self.doc)))

    def test_docs_page_names_every_path(self):
        response = self.url_open(f"{BASE_PATH}/docs")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "text/html")
        html = response.text
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertNotIn("<script", html)
        self.assertIn("Try it", html)
        self.assertIn("apikey create --name demo", html)
        for path, method in document_operations(self.doc):
            with self.subTest(path=path):
                self.assertIn(f"{BASE_PATH}{path}", html)
                self.assertIn(f'<span class="method {method}">{method.upper()}</span>', html)

    def test_real_answers_match_the_schemas(self):
        program, member = self.demo()
        query = {"program_id": program.id}

        programs = self.assertDocumented(self.api("get", "/programs"), "/programs", "get")
        self.assertIn(program.id, [p["id"] for p in programs])

        response = self.api("get", f"/members/{quote(member.mobile, safe='+')}", params=query)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.assertDocumented(response, "/members/{member}", "get")["id"], member.id)

        order_ref = f"OPENAPI-{uuid.uuid4().hex[:12]}"
        body = {"program_id": program.id, "member": member.mobile, "order_ref": order_ref, "amount": "1499.50",
                "store_ref": SANDBOX["store_ref"], "lines": [{"product_ref": "SKU-1", "amount": 1499.5}]}
        key = str(uuid.uuid4())
        response = self.api("post", "/transactions", body=body, idempotency=key)
        self.assertEqual(response.status_code, 201, response.text)
        first = self.assertDocumented(response, "/transactions", "post")
        self.assertNotIn("Idempotent-Replayed", response.headers)
        replay = self.api("post", "/transactions", body=body, idempotency=key)
        self.assertEqual(replay.status_code, 201, replay.text)
        self.assertEqual(replay.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(self.assertDocumented(replay, "/transactions", "post"), first)

        response = self.api("get", "/rewards", params={**query, "member": member.mobile})
        self.assertEqual(response.status_code, 200, response.text)
        rewards = self.assertDocumented(response, "/rewards", "get")
        self.assertTrue(rewards and all(r["eligible"] in (True, False) for r in rewards))

        response = self.api("get", f"/members/{member.code}/ledger", params=query)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(self.assertDocumented(response, "/members/{member}/ledger", "get")["entries"])

    def test_error_answers_match_the_schemas(self):
        program, member = self.demo()
        cases = [
            # (method, path, document path, token, body, params, idempotency, status, code)
            ("get", "/programs", "/programs", False, None, None, None, 401, "unauthorized"),
            ("get", "/programs", "/programs", "klk_not-a-key", None, None, None, 401, "unauthorized"),
            ("get", "/members/+910000000000", "/members/{member}", None, None, {"program_id": program.id}, None,
             404, "not_found"),
            ("get", f"/members/{member.code}", "/members/{member}", None, None, {"program_id": "x"}, None,
             400, "validation_error"),
            ("post", "/transactions", "/transactions", None, {"program_id": program.id, "member": member.code,
                                                              "order_ref": "X"}, None, "k1", 400,
             "validation_error"),
            ("post", "/events", "/events", None, {"program_id": program.id, "member": member.code,
                                                  "event": "checkin", "ref": "r"}, None, None, 400,
             "validation_error"),
            ("post", "/redemptions/2147483647/cancel", "/redemptions/{redemption_id}/cancel", None, None, None,
             "k2", 404, "not_found"),
        ]
        for method, path, doc_path, token, body, params, idem, status, code in cases:
            with self.subTest(method=method, path=path, status=status):
                response = self.api(method, path, token=token, body=body, params=params, idempotency=idem)
                self.assertEqual(response.status_code, status, response.text)
                self.assertEqual(self.assertDocumented(response, doc_path, method)["error"]["code"], code)

        # The same Idempotency-Key with another body.
        key = str(uuid.uuid4())
        body = {"program_id": program.id, "member": member.code, "event": "checkin", "ref": key}
        self.api("post", "/events", body=body, idempotency=key)
        response = self.api("post", "/events", body=dict(body, ref="other"), idempotency=key)
        self.assertEqual(response.status_code, 409, response.text)
        self.assertEqual(self.assertDocumented(response, "/events", "post")["error"]["code"],
                         "idempotency_key_reused")

        # Over the key's rate limit: 429 with Retry-After.
        self.key.sudo().rate_limit = 1
        self.env.flush_all()
        self.api("get", "/programs")
        response = self.api("get", "/programs")
        self.assertEqual(response.status_code, 429, response.text)
        self.assertEqual(self.assertDocumented(response, "/programs", "get")["error"]["code"], "rate_limited")

    def test_idempotency_key_required_where_documented(self):
        """A POST without Idempotency-Key is refused (400 on the header) exactly where the document requires it."""
        self.demo()
        for path, method in sorted(document_operations(self.doc)):
            if method != "post":
                continue
            operation = self.doc["paths"][path][method]
            required = any(resolve(self.doc, p)["name"] == "Idempotency-Key" and resolve(self.doc, p)["required"]
                           for p in operation.get("parameters", []))
            url = re.sub(r"{\w+}", lambda m: "2147483647" if m[0] == "{redemption_id}" else "NONE", path)
            with self.subTest(path=path):
                response = self.api("post", url, body={})
                self.assertDocumented(response, path, method)
                refused = (response.status_code == 400
                           and response.json()["error"]["details"].get("field") == "Idempotency-Key")
                self.assertEqual(refused, required, response.text)
