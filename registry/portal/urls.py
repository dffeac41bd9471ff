from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from . import admin_views, views

app_name = "portal"

_reset = {
    "password_reset": views.PasswordResetView.as_view(
        template_name="registration/password_reset_form.html",
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
        success_url=reverse_lazy("portal:password_reset_done"),
    ),
    "password_reset_done": auth_views.PasswordResetDoneView.as_view(
        template_name="registration/password_reset_done.html"
    ),
    "password_reset_confirm": auth_views.PasswordResetConfirmView.as_view(
        template_name="registration/password_reset_confirm.html",
        success_url=reverse_lazy("portal:password_reset_complete"),
    ),
    "password_reset_complete": auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/password_reset_complete.html"
    ),
}

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    # accounts
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/signup/done/", views.signup_done, name="signup-done"),
    path("accounts/confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/password-reset/", _reset["password_reset"], name="password_reset"),
    path(
        "accounts/password-reset/sent/", _reset["password_reset_done"], name="password_reset_done"
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        _reset["password_reset_confirm"],
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", _reset["password_reset_complete"], name="password_reset_complete"),
    # applicants and agents
    path("portal/", views.dashboard, name="dashboard"),
    path("portal/requests/new/", views.request_new, name="request-new"),
    path("portal/requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("portal/requests/<int:pk>/withdraw/", views.request_withdraw, name="request-withdraw"),
    path(
        "portal/credentials/<str:credential_id>/",
        views.credential_detail,
        name="credential-detail",
    ),
    path(
        "portal/credentials/<str:credential_id>/download/<str:fmt>/",
        views.credential_download,
        name="credential-download",
    ),
    path("portal/mandates/", views.mandates, name="mandates"),
    path("portal/mandates/new/", views.mandate_new, name="mandate-new"),
    path("portal/mandates/<int:pk>/revoke/", views.mandate_revoke, name="mandate-revoke"),
    path("portal/wallet/", views.wallet, name="wallet"),
    # office officers
    path("portal/office/", views.office_home, name="office-home"),
    path("portal/office/<str:st3>/queue/", views.office_queue, name="office-queue"),
    path("portal/office/requests/<int:pk>/", views.office_request_detail, name="office-request"),
    path(
        "portal/office/<str:st3>/credentials/",
        views.office_credentials,
        name="office-credentials",
    ),
    path(
        "portal/office/<str:st3>/credentials/<str:credential_id>/status/",
        views.office_credential_status,
        name="office-credential-status",
    ),
    path("portal/tools/resolve/", views.tool_resolve, name="tool-resolve"),
    path("portal/tools/verify/", views.tool_verify, name="tool-verify"),
    # administrators (trust registry and administration, same look)
    path("portal/admin/", admin_views.admin_home, name="admin-home"),
    path(
        "portal/admin/accreditations/grant/",
        admin_views.accreditation_grant_view,
        name="admin-accreditation-grant",
    ),
    path(
        "portal/admin/accreditations/<int:pk>/<str:action>/",
        admin_views.accreditation_change_view,
        name="admin-accreditation-change",
    ),
    path("portal/admin/offices/<str:st3>/", admin_views.office_admin, name="admin-office"),
    path(
        "portal/admin/offices/<str:st3>/members/<int:user_id>/remove/",
        admin_views.office_member_remove_view,
        name="admin-member-remove",
    ),
    path(
        "portal/admin/offices/<str:st3>/keys/<int:key_id>/<str:action>/",
        admin_views.api_key_change_view,
        name="admin-key-change",
    ),
    path("portal/admin/audit/", admin_views.audit_log, name="admin-audit"),
]
