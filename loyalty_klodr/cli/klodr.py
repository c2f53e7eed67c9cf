"""``python -m odoo [--addons-path=...] klodr -d DB {verify,apikey}``: Klodr Loyalty operations.

Loaded by Odoo as ``odoo.cli.klodr`` (not as part of the addon), so it only
talks to the addon through the registry.
"""
# pylint: disable=print-used
# A command line tool answers on standard output.
import argparse
import sys

import odoo.tools.config
from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.modules.registry import Registry

SUBCOMMANDS = ("verify", "apikey")


class Klodr(Command):
    """Klodr Loyalty operations: verify the points ledger, create API keys."""

    def run(self, args):
        position = next((i for i, arg in enumerate(args) if arg in SUBCOMMANDS), None)
        if position is None:
            sys.exit(f"usage: {self.prog} -d DB {{{','.join(SUBCOMMANDS)}}} ...\n"
                     "  verify [--program ID ...]   check every invariant of the ledger\n"
                     "  apikey create --name NAME [--company ID] [--program ID ...]   print a new API key once")
        odoo_args, subcommand, sub_args = args[:position], args[position], args[position + 1:]
        odoo.tools.config.parse_config(odoo_args, setup_logging=True)
        dbnames = odoo.tools.config["db_name"]
        if not dbnames or len(dbnames) != 1:
            sys.exit("klodr: give exactly one database with -d DB")
        registry = Registry(dbnames[0])
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if "klodr.ledger.entry" not in env:
                sys.exit(f"klodr: the module loyalty_klodr is not installed in {dbnames[0]}")
            sys.exit(getattr(self, f"_{subcommand}")(env, sub_args))

    def _verify(self, env, args):
        parser = argparse.ArgumentParser(prog=f"{self.prog} -d DB verify",
                                         description="Check every invariant of the points ledger.")
        parser.add_argument("--program", type=int, action="append", metavar="ID",
                            help="only this program (repeatable)")
        options = parser.parse_args(args)
        breaks = env["klodr.ledger.entry"]._verify_ledger(program_ids=options.program)
        for item in breaks:
            print(f"BROKEN {item}")
        scope = f"programs {options.program}" if options.program else "all programs"
        if breaks:
            print(f"klodr verify: {len(breaks)} invariant(s) broken ({scope})")
            return 1
        entries = env["klodr.ledger.entry"].sudo().search_count(
            [("program_id", "in", options.program)] if options.program else [])
        print(f"klodr verify: OK ({scope}, {entries} entries)")
        return 0

    def _apikey(self, env, args):
        parser = argparse.ArgumentParser(prog=f"{self.prog} -d DB apikey", description="Manage REST API keys.")
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True)
        create.add_argument("--company", type=int, help="company id (default: the main company)")
        create.add_argument("--program", type=int, action="append", metavar="ID", help="limit to this program")
        options = parser.parse_args(args)
        company = env["res.company"].browse(options.company) if options.company else env.ref("base.main_company")
        if not company.exists():
            print(f"klodr apikey: no company {options.company}", file=sys.stderr)
            return 2
        programs = env["klodr.program"].browse(options.program or [])
        if programs and (len(programs.exists()) != len(programs) or programs.company_id != company):
            print("klodr apikey: the programs must exist and belong to the company", file=sys.stderr)
            return 2
        key, token = env["klodr.api.key"]._generate(options.name, company, programs)
        env.cr.commit()
        print(f"API key {key.id} '{key.name}' for {company.name} (shown once):", file=sys.stderr)
        print(token)
        return 0
