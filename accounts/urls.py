from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/", views.verify, name="verify"),
    path("2fa/setup/", views.setup, name="setup"),
    path("2fa/backup-codes/", views.regenerate_backup_codes, name="backup_codes"),
    path("password/", views.password_change, name="password_change"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/preferences/", views.preferences, name="preferences"),
    path("settings/accounts/<uuid:account_id>/test/", views.test_connection, name="test_connection"),
    path("settings/accounts/<uuid:account_id>/pin/", views.pin_certificate, name="pin_certificate"),
]
