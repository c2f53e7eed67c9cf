"""Hindi: every string of the four addons has a translation, and the screens, errors and
reports really come out in Hindi once ``hi_IN`` is installed.

The first tests read only the files (no database): each addon's ``i18n/<addon>.pot`` must
have a non-empty ``msgstr`` for every ``msgid`` in ``i18n/hi.po``, with the same placeholders.
``test_every_exported_term_has_hindi`` then exports the addons' terms from the database
the way ``odoo i18n export`` does, so a new string that nobody translated fails here.
To fix such a failure: re-export the .pot (``python3 -m odoo i18n export -c CONF -d DB
<addon>``), ``msgmerge`` it into ``hi.po`` and translate the new entries.
"""
import re
from pathlib import Path

import polib
import pytest

from odoo.tests import tagged
from odoo.tools.translate import TranslationModuleReader

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError

from .common import KlodrCommon

REPO = Path(__file__).resolve().parents[2]
ADDONS = ("loyalty_klodr", "loyalty_klodr_sms", "loyalty_klodr_pos", "loyalty_klodr_gst")
DEVANAGARI = re.compile("[\u0900-\u097f]")
# What must survive translation unchanged: printf and named placeholders, Jinja/inline
# template expressions, HTML tags and entities, QWeb directives.
PLACEHOLDER = re.compile(
    r"%\([a-z_]+\)[sdf]|%[sdf]|%%|\{\{.*?\}\}|\{[a-z_]+\}|</?[a-zA-Z][^>]*>|&[a-z]+;|\bt-[a-z-]+=\"[^\"]*\"")


def _addons_with_terms():
    return [addon for addon in ADDONS if (REPO / addon / "i18n" / f"{addon}.pot").exists()]


def _hindi(addon):
    path = REPO / addon / "i18n" / "hi.po"
    assert path.exists(), f"{addon} has a .pot but no i18n/hi.po"
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if not entry.obsolete}


def test_core_and_sms_addons_have_their_terms():
    found = _addons_with_terms()
    assert "loyalty_klodr" in found and "loyalty_klodr_sms" in found, found


@pytest.mark.parametrize("addon", _addons_with_terms())
def test_every_pot_msgid_has_a_hindi_msgstr(addon):
    pot = polib.pofile(str(REPO / addon / "i18n" / f"{addon}.pot"))
    hindi = _hindi(addon)
    assert len(pot) > 0, f"{addon}.pot is empty"
    untranslated = [entry.msgid for entry in pot if not hindi.get(entry.msgid, "").strip()]
    assert not untranslated, f"{addon}/i18n/hi.po lacks {len(untranslated)} translation(s): {untranslated[:20]}"


@pytest.mark.parametrize("addon", _addons_with_terms())
def test_hindi_keeps_placeholders_and_is_hindi(addon):
    hindi = _hindi(addon)
    broken = [(msgid, msgstr) for msgid, msgstr in hindi.items() if msgid and msgstr
              and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))]
    assert not broken, f"{addon}/i18n/hi.po changes placeholders: {broken[:5]}"
    # Proper nouns, codes and examples (Klodr Rewards, E.164 numbers, URLs) stay as they are,
    # but the file as a whole is Devanagari, not English copied over.
    in_hindi = sum(1 for msgid, msgstr in hindi.items() if msgid and DEVANAGARI.search(msgstr))
    assert in_hindi >= 0.85 * (len(hindi) - 1), f"{addon}: only {in_hindi} of {len(hindi) - 1} entries in Hindi"


def test_placeholder_check_catches_a_broken_translation():
    msgid = "At least %(minimum)s points are needed to redeem (%(spendable)s spendable)."
    good = "रिडीम करने के लिए कम से कम %(minimum)s अंक चाहिए (ख़र्च योग्य: %(spendable)s)।"
    bad = "रिडीम करने के लिए कम से कम %(minimum) अंक चाहिए।"
    assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(good))
    assert sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(bad))


@tagged("post_install", "-at_install")
class TestHindiScreens(KlodrCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("hi_IN")
        installed = cls.env["ir.module.module"].search([("name", "in", ADDONS), ("state", "=", "installed")])
        cls.env["ir.module.module"]._load_module_terms(installed.mapped("name"), ["hi_IN"], overwrite=True)
        cls.hi = cls.env(context=dict(cls.env.context, lang="hi_IN"))

    def test_every_exported_term_has_hindi(self):
        """The terms Odoo exports today (views, fields, selections, code, data, JS) are all in hi.po."""
        installed = self.env["ir.module.module"].search([("name", "in", ADDONS), ("state", "=", "installed")])
        missing = {}
        for addon in installed.mapped("name"):
            path = REPO / addon / "i18n" / "hi.po"
            hindi = _hindi(addon) if path.exists() else {}
            terms = {source for module, _type, _name, _res_id, source, _value, _comments
                     in TranslationModuleReader(self.env.cr, modules=[addon]) if module == addon}
            lacking = sorted(term for term in terms if not hindi.get(term, "").strip())
            if lacking:
                missing[addon] = lacking
        if missing:
            self.fail("strings without a Hindi translation (re-export the .pot, msgmerge, translate): %s"
                      % {addon: (len(terms), terms[:10]) for addon, terms in missing.items()})

    def test_member_form_in_hindi(self):
        views = self.hi["klodr.member"].get_views([(False, "form"), (False, "list")])
        form = views["views"]["form"]["arch"]
        self.assertIn("अंक समायोजित करें", form)  # the "Adjust Points" button
        self.assertIn("ख़र्च योग्य", form)  # the "Spendable" stat button
        self.assertNotIn("Adjust Points", form)
        member_fields = views["models"]["klodr.member"]["fields"]
        self.assertEqual(member_fields["balance"]["string"], "शेष")
        self.assertEqual(member_fields["mobile"]["string"], "मोबाइल")
        self.assertEqual(member_fields["mobile"]["help"], "E.164 में सहेजा जाता है (+919845012345)।")
        self.assertEqual(dict(member_fields["state"]["selection"]),
                         {"active": "सक्रिय", "blocked": "ब्लॉक किया गया", "erased": "मिटाया गया"})
        model = self.hi["ir.model"]._get("klodr.member")
        self.assertEqual(model.name, "लॉयल्टी सदस्य")

    def test_menus_in_hindi(self):
        root = self.env.ref("loyalty_klodr.menu_klodr_root")
        self.assertEqual(root.with_context(lang="hi_IN").name, "लॉयल्टी")
        children = self.hi["ir.ui.menu"].search([("parent_id", "=", root.id)]).mapped("name")
        self.assertIn("सदस्य", children)
        self.assertTrue(all(DEVANAGARI.search(name) for name in children), children)

    def test_errors_in_hindi(self):
        with self.assertRaises(LoyaltyError) as caught:
            self.hi["klodr.member"]._enroll(self.program, {"name": "Priya", "mobile": "98450 00001"})
        self.assertEqual(str(caught.exception), "+919845000001 पहले से सदस्य है।")
        entry = self.post(self.member, "earn", 50)
        with self.assertRaises(Exception) as caught:
            entry.with_env(self.hi).unlink()
        self.assertIn("लेजर प्रविष्टियाँ हटाई नहीं जा सकतीं", str(caught.exception))
        # and English stays English
        with self.assertRaises(LoyaltyError) as caught:
            self.env["klodr.member"].with_context(lang="en_US")._enroll(
                self.program, {"name": "Priya", "mobile": "98450 00001"})
        self.assertEqual(str(caught.exception), "+919845000001 is already a member.")

    def test_pos_panel_strings_reach_the_browser_in_hindi(self):
        """The cashier's panel (OWL templates and JS ``_t``) gets its Hindi from the webclient translations."""
        pos = self.env["ir.module.module"].search([("name", "=", "loyalty_klodr_pos"), ("state", "=", "installed")])
        if not pos:
            self.skipTest("loyalty_klodr_pos is not installed")
        per_module, lang = self.env["ir.http"]._get_translations_for_webclient(["loyalty_klodr_pos"], "hi_IN")
        self.assertEqual(lang["code"], "hi_IN")
        messages = {message["id"]: message["string"] for message in per_module["loyalty_klodr_pos"]["messages"]}
        self.assertEqual(messages.get("Loyalty: find or enroll a member"), "लॉयल्टी: सदस्य खोजें या नामांकन करें")
        self.assertEqual(messages.get("%(points)s points redeemed on this order."),
                         "इस ऑर्डर पर %(points)s अंक रिडीम किए गए।")

    def test_statement_report_in_hindi(self):
        """The points statement (QWeb) speaks Hindi: headings, columns, entry types, mail template."""
        report = self.env.ref("loyalty_klodr.action_report_member_statement")
        self.post(self.member, "earn", 120, source_ref="INV-HI-1")
        self.post(self.member, "adjust", -20, description="correction")
        html, _kind = report.with_context(lang="hi_IN")._render_qweb_html(report.report_name, self.member.ids)
        html = html.decode()
        for heading in ("अंक विवरण", "प्रारंभिक शेष", "अंतिम शेष", "जमा हुए अंक", "घटाए गए अंक", "पूरा इतिहास",
                        "तिथि", "स्टोर", "संदर्भ", "समाप्ति", "अर्जन", "समायोजन", "INV-HI-1"):
            self.assertIn(heading, html)
        for english in ("Points Statement", "Opening balance", "Closing balance", "Whole history", "Earn<"):
            self.assertNotIn(english, html)
        # A member whose contact speaks Hindi gets it in Hindi whoever prints it.
        self.member.partner_id = self.env["res.partner"].create({"name": "Priya Test", "lang": "hi_IN"})
        html, _kind = report.with_context(lang="en_US")._render_qweb_html(
            report.report_name, self.member.ids, data={"date_from": "2020-01-01", "date_to": "2099-12-31"})
        self.assertIn("प्रारंभिक शेष", html.decode())
        self.assertIn("अवधि:", html.decode())
        template = self.env.ref("loyalty_klodr.mail_template_member_statement")
        self.assertEqual(template.with_context(lang="hi_IN").subject, "{{ object.program_id.name }}: आपके अंकों का विवरण")
        self.assertIn("प्रिय", template.with_context(lang="hi_IN").body_html)
