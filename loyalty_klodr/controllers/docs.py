"""``GET /api/loyalty/v1/docs``: the human-readable API reference, rendered on the server.

Built from the same OpenAPI document as ``/api/loyalty/v1/openapi.json``
(``tools/openapi.py``): plain HTML and a little inline CSS, no script and nothing
loaded from elsewhere. Every text of the document is escaped (markupsafe); the
descriptions' Markdown subset (`code`, **bold**, "- " lists) is applied to the
escaped text only.
"""
import functools
import json
import re
import shlex
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from odoo import http
from odoo.http import request

from ..tools.openapi import BASE_PATH, SANDBOX, openapi_document

METHODS = ("get", "post", "put", "patch", "delete")
CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:980px;margin:0 auto;padding:24px 32px;background:#fff;min-height:100vh}
nav ul{columns:2;padding-left:18px}
h1{margin-top:0}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:40px}
section.op{border:1px solid #d0d7de;border-radius:6px;padding:4px 16px 12px;margin:20px 0}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;border-radius:4px}
code{padding:1px 4px}pre{padding:10px 12px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}
.method{display:inline-block;min-width:52px;text-align:center;border-radius:4px;color:#fff;font-weight:600;
padding:1px 6px;margin-right:8px;font-size:13px}.get{background:#1a7f37}.post{background:#0969da}
.path{font-family:ui-monospace,Menlo,monospace;font-size:16px}.muted{color:#59636e}
.status{font-weight:600}.req{color:#cf222e;font-size:12px}
"""


# ----------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------
def inline(text):
    """Escaped ``text`` with `code` and **bold**."""
    parts = []
    for index, chunk in enumerate(re.split(r"`([^`]*)`", str(text or ""))):
        if index % 2:
            parts.append(Markup("<code>%s</code>") % chunk)
        else:
            escaped = str(escape(chunk))
            parts.append(Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)))
    return Markup("").join(parts)


def blocks(text):
    """Paragraphs and "- " lists of ``text``, escaped."""
    html, paragraph, items = [], [], []

    def flush():
        if paragraph:
            html.append(Markup("<p>%s</p>") % inline(" ".join(paragraph)))
            paragraph.clear()
        if items:
            html.append(Markup("<ul>%s</ul>") % Markup("").join(Markup("<li>%s</li>") % inline(i) for i in items))
            items.clear()

    for line in str(text or "").splitlines():
        line = line.strip()
        if not line:
            flush()
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:])
        elif items:
            items[-1] += " " + line
        else:
            paragraph.append(line)
    flush()
    return Markup("").join(html)


def pretty(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


# ----------------------------------------------------------------------
# Schemas
# ----------------------------------------------------------------------
class Renderer:
    def __init__(self, document):
        self.doc = document
        self.components = document.get("components", {})

    def resolve(self, node):
        """Follow ``$ref`` (local references only)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node, seen = target, seen + 1
        return node

    def schema_link(self, name):
        return Markup('<a href="#schema-%s">%s</a>') % (name, name)

    def type_label(self, schema):
        if not isinstance(schema, dict):
            return Markup("any")
        if "$ref" in schema:
            return self.schema_link(schema["$ref"].rsplit("/", 1)[-1])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return Markup(" | ").join(self.type_label(s) for s in schema[key])
        if "allOf" in schema:
            return Markup(" + ").join(self.type_label(s) for s in schema["allOf"])
        if "const" in schema:
            return Markup("<code>%s</code>") % json.dumps(schema["const"])
        kind = schema.get("type", "object" if "properties" in schema else "any")
        kinds = kind if isinstance(kind, list) else [kind]
        labels = []
        for one in kinds:
            if one == "array":
                labels.append(Markup("array of %s") % self.type_label(schema.get("items", {})))
            elif one != "null" and schema.get("format"):
                labels.append(Markup("%s (%s)") % (one, schema["format"]))
            else:
                labels.append(escape(one))
        return Markup(" | ").join(labels)

    @staticmethod
    def constraints(schema):
        schema = schema if isinstance(schema, dict) else {}
        parts = []
        if "enum" in schema:
            parts.append(Markup("one of %s") % Markup(", ").join(
                Markup("<code>%s</code>") % value for value in schema["enum"]))
        if "minLength" in schema or "maxLength" in schema:
            parts.append(escape(f"{schema.get('minLength', 0)} to {schema.get('maxLength', '…')} characters"))
        for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("maxItems", "items ≤")):
            if key in schema:
                parts.append(escape(f"{label} {schema[key]:,}"))
        for key in ("anyOf", "oneOf"):
            for option in schema.get(key, []):
                sub = Renderer.constraints(option)
                if sub:
                    parts.append(sub)
        return Markup("; ").join(parts)

    def fields_table(self, schema):
        schema = self.resolve(schema)
        properties = schema.get("properties") or {}
        if not properties:
            return Markup("")
        required = set(schema.get("required", []))
        rows = []
        for name, prop in properties.items():
            resolved = prop if "$ref" in prop else self.resolve(prop)
            rows.append(Markup(
                "<tr><td><code>%s</code>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                name, Markup(' <span class="req">required</span>') if name in required else "",
                self.type_label(resolved), self.constraints(resolved), inline(resolved.get("description", ""))))
        note = blocks(schema["description"]) if schema.get("description") else Markup("")
        return note + Markup(
            "<table><tr><th>Field</th><th>Type</th><th>Constraints</th><th>Description</th></tr>%s</table>"
        ) % Markup("").join(rows)

    # ------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------
    def parameters(self, operation):
        params = [self.resolve(p) for p in operation.get("parameters", [])]
        if not params:
            return Markup("")
        rows = Markup("").join(Markup(
            "<tr><td><code>%s</code>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
            p["name"], Markup(' <span class="req">required</span>') if p.get("required") else "",
            p["in"], self.type_label(p.get("schema", {})), self.constraints(p.get("schema", {})),
            inline(p.get("description", ""))) for p in params)
        return Markup(
            "<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Constraints</th>"
            "<th>Description</th></tr>%s</table>") % rows

    @staticmethod
    def error_codes(schema):
        """The ``error.code`` enum of an error response schema (``allOf: [Error, {...}]``)."""
        for part in (schema or {}).get("allOf", []):
            code = part.get("properties", {}).get("error", {}).get("properties", {}).get("code", {})
            if code.get("enum"):
                return code["enum"]
        return []

    def request_body(self, operation):
        body = operation.get("requestBody")
        if not body:
            return Markup("")
        media = body.get("content", {}).get("application/json", {})
        html = Markup("<h4>Request body %s</h4>") % (
            Markup('<span class="req">required</span>') if body.get("required") else Markup(
                '<span class="muted">(optional)</span>'))
        schema = media.get("schema", {})
        if "$ref" in schema:
            html += Markup('<p class="muted">Schema: %s</p>') % self.type_label(schema)
        html += self.fields_table(schema) or blocks(self.resolve(schema).get("description", ""))
        if "example" in media:
            html += Markup("<p>Example:</p><pre>%s</pre>") % pretty(media["example"])
        return html

    def responses(self, operation):
        html = Markup("<h4>Responses</h4>")
        for status, response in operation.get("responses", {}).items():
            response = self.resolve(response)
            media = response.get("content", {}).get("application/json", {})
            schema = media.get("schema")
            headers = response.get("headers", {})
            html += Markup('<p><span class="status">%s</span> %s%s</p>') % (
                status, inline(response.get("description", "")),
                Markup(" — %s") % self.type_label(schema) if schema and "allOf" not in schema else "")
            codes = self.error_codes(schema)
            if codes:
                html += Markup('<p class="muted">Codes: %s</p>') % Markup(", ").join(
                    Markup("<code>%s</code>") % code for code in codes)
            if headers:
                html += Markup('<p class="muted">Headers: %s</p>') % Markup(", ").join(
                    Markup("<code>%s</code>") % name for name in headers)
            if "example" in media and status != "401":
                html += Markup("<pre>%s</pre>") % pretty(media["example"])
        return html

    def curl(self, path, method, operation):
        url_path = path
        query = {}
        for param in (self.resolve(p) for p in operation.get("parameters", [])):
            if param["in"] == "path":
                url_path = url_path.replace(f"{{{param['name']}}}", quote(str(param.get("example", "1")), safe="+"))
            elif param["in"] == "query" and param.get("required"):
                query[param["name"]] = param.get("example", 1)
        url = "$BASE" + url_path + ("?" + urlencode(query) if query else "")
        lines = [f"curl -s -X {method.upper()} \"{url}\"" if method != "get" else f"curl -s \"{url}\""]
        if operation.get("security", True) != []:
            lines.append('-H "Authorization: Bearer $KEY"')
        body = operation.get("requestBody")
        if any(self.resolve(p).get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
            lines.append('-H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)"')
        example = body and body.get("content", {}).get("application/json", {}).get("example")
        if example is not None:
            lines.append('-H "Content-Type: application/json"')
            lines.append("-d " + shlex.quote(json.dumps(example, ensure_ascii=False)))
        return " \\\n     ".join(lines)

    def operation(self, path, method, operation):
        anchor = operation.get("operationId") or re.sub(r"[^A-Za-z0-9]+", "-", f"{method}{path}")
        return Markup(
            '<section class="op" id="%s"><h3><span class="method %s">%s</span><span class="path">%s</span></h3>'
            "<p><strong>%s</strong>%s</p>%s%s%s%s<h4>Try it</h4><pre>%s</pre></section>") % (
            anchor, method, method.upper(), BASE_PATH + path, operation.get("summary", ""),
            Markup(' <span class="muted">(no API key)</span>') if operation.get("security") == [] else "",
            blocks(operation.get("description", "")),
            self.parameters(operation), self.request_body(operation), self.responses(operation),
            self.curl(path, method, operation))

    def operations(self):
        for path, item in self.doc.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    yield path, method, item[method]

    # ------------------------------------------------------------------
    # Page
    # ------------------------------------------------------------------
    def try_it(self):
        program, member, store = SANDBOX["program_id"], SANDBOX["member"], SANDBOX["store_ref"]
        uuid = '-H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)"'
        post = '-H "Authorization: Bearer $KEY" -H "Content-Type: application/json"'
        earn = json.dumps({"program_id": program, "member": member, "order_ref": "TRY-1", "amount": "1499.00",
                           "store_ref": store})
        redeem = json.dumps({"program_id": program, "member": member, "reward_id": SANDBOX["reward_id"],
                             "order_ref": "TRY-2"})
        text = f"""\
# 1. A key for the demo company (printed once, on the last line):
KEY=$(python -m odoo --addons-path=ODOO/addons,REPO klodr -c odoo.conf -d DB apikey create --name demo | tail -n 1)
BASE=http://localhost:8069{BASE_PATH}

# 2. The demo program and a demo member:
curl -s -H "Authorization: Bearer $KEY" "$BASE/programs"
curl -s -H "Authorization: Bearer $KEY" "$BASE/members/{quote(member, safe='+')}?program_id={program}"

# 3. Earn points on a purchase (a new Idempotency-Key per operation):
curl -s -X POST "$BASE/transactions" {post} \\
     {uuid} \\
     -d {shlex.quote(earn)}

# 4. Redeem a reward: the answer is pending_otp with a redemption_id; the demo SMS
#    provider keeps the code in the database (sms.sms records). Confirm with it:
curl -s -X POST "$BASE/redemptions" {post} \\
     {uuid} \\
     -d {shlex.quote(redeem)}
curl -s -X POST "$BASE/redemptions/REDEMPTION_ID/confirm" {post} \\
     {uuid} \\
     -d '{{"otp": "CODE"}}'"""
        return Markup(
            '<h2 id="try-it">Try it</h2><p>Against the demo program (the sandbox): install the addons with demo '
            "data (<code>--with-demo</code>), create an API key with the <code>klodr</code> command of Odoo's "
            "command line (<code>python -m odoo ... klodr -d DB apikey create --name demo</code>), then call the "
            "API with <code>curl</code>. In a query string write the <code>+</code> of a mobile number as "
            "<code>%%2B</code>.</p><pre>%s</pre>") % text

    def schemas(self):
        html = Markup('<h2 id="schemas">Schemas</h2>')
        for name, schema in self.components.get("schemas", {}).items():
            body = self.fields_table(schema)
            if not body:
                body = blocks(schema.get("description", "")) + Markup("<p>%s %s</p>") % (
                    self.type_label(schema), self.constraints(schema))
            html += Markup('<h3 id="schema-%s">%s</h3>%s') % (name, name, body)
        return html

    def page(self):
        info = self.doc.get("info", {})
        toc = Markup("").join(
            Markup('<li><a href="#%s"><code>%s %s</code></a> %s</li>') % (
                op.get("operationId") or "", method.upper(), path, op.get("summary", ""))
            for path, method, op in self.operations())
        ops = Markup("").join(self.operation(*args) for args in self.operations())
        return Markup(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>%s — reference</title><style>%s</style></head><body><main>"
            "<h1>%s <span class=\"muted\">v%s</span></h1>%s"
            '<p>Machine-readable: <a href="%s/openapi.json"><code>%s/openapi.json</code></a> (OpenAPI %s).</p>'
            '<nav><h2>Contents</h2><ul>%s<li><a href="#try-it">Try it</a></li>'
            '<li><a href="#schemas">Schemas</a></li></ul></nav>'
            "<h2>Endpoints</h2>%s%s%s</main></body></html>") % (
            info.get("title", ""), Markup(CSS), info.get("title", ""), info.get("version", ""),
            blocks(info.get("description", "")), BASE_PATH, BASE_PATH, self.doc.get("openapi", ""),
            toc, ops, self.try_it(), self.schemas())


@functools.lru_cache(maxsize=1)
def render_reference():
    """The reference page of :func:`openapi_document` (the document is static: rendered once)."""
    return str(Renderer(openapi_document()).page())


class LoyaltyApiDocs(http.Controller):
    @http.route(f"{BASE_PATH}/docs", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False, readonly=True)
    def api_reference(self):
        return request.make_response(render_reference(), headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            ("X-Content-Type-Options", "nosniff"),
        ])
