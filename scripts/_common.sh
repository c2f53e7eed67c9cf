# Shared by scripts/serve and scripts/test: locate Odoo 19 and write an Odoo config.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
ADDONS=loyalty_klodr,loyalty_klodr_sms,loyalty_klodr_pos,loyalty_klodr_gst

odoo_root() {
    "$PYTHON" - <<'PY'
import os, sys
try:
    import odoo.release
except ImportError:
    sys.exit(1)
if odoo.release.version_info[:2] != (19, 0):
    sys.exit(2)
print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.release.__file__))))
PY
}

require_odoo() {
    if ! ODOO_ROOT=$(odoo_root); then
        echo "ERROR: Odoo 19.0 is not importable by '$PYTHON' ('$PYTHON -m odoo --version' must print 'Odoo Server 19.0')." >&2
        echo "       Install Odoo 19.0 Community (e.g. 'pip install -e <odoo-19-source>') first: see README.md, Prerequisites." >&2
        exit 3
    fi
    ODOO_ADDONS_PATH="$ODOO_ROOT/addons,$ROOT"
    [ -d "$ODOO_ROOT/addons" ] || ODOO_ADDONS_PATH="$ROOT"
}

write_config() {  # write_config FILE
    cat > "$1" <<CONF
[options]
addons_path = $ODOO_ADDONS_PATH
db_host = ${PGHOST:-127.0.0.1}
db_port = ${PGPORT:-5432}
db_user = ${PGUSER:-root}
${PGPASSWORD:+db_password = $PGPASSWORD}
http_interface = 127.0.0.1
without_demo = False
CONF
}
