from . import models, tools


def uninstall_hook(env):
    """sms_twilio may keep the company's provider field: leave no provider it does not know."""
    env.cr.execute("UPDATE res_company SET sms_provider = 'iap' WHERE sms_provider IN ('log', 'dlt_http')")
