from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"


class SecondFactorAdminConfig(AdminConfig):
    """The Django admin, on a site that demands a verified second factor."""

    default_site = "accounts.admin_site.SecondFactorAdminSite"
