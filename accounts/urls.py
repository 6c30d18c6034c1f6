from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import two_factor, verification, views

# No app_name: Django's auth views and templates expect these global names
# (login, logout, password_reset_confirm, ...).
urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/delete/", views.AccountDeleteView.as_view(), name="account_delete"),
    path("profile/export.json", views.DataExportView.as_view(), name="account_export"),
    path(
        "email/confirm/<str:token>/",
        verification.EmailConfirmView.as_view(),
        name="email_confirm",
    ),
    path(
        "email/resend/",
        verification.ResendConfirmationView.as_view(),
        name="email_confirm_resend",
    ),
    path(
        "email/cancel-change/",
        verification.EmailChangeCancelView.as_view(),
        name="email_change_cancel",
    ),
    path("two-factor/verify/", two_factor.VerifyView.as_view(), name="two_factor_verify"),
    path("two-factor/setup/", two_factor.SetupView.as_view(), name="two_factor_setup"),
    path(
        "two-factor/recovery-codes/",
        two_factor.RecoveryCodesView.as_view(),
        name="two_factor_recovery_codes",
    ),
    path("two-factor/disable/", two_factor.DisableView.as_view(), name="two_factor_disable"),
    path("profile/sessions/", views.SessionListView.as_view(), name="account_sessions"),
    path(
        "profile/sessions/end-others/",
        views.SessionEndOthersView.as_view(),
        name="account_sessions_end_others",
    ),
    path(
        "profile/sessions/<str:session_id>/end/",
        views.SessionEndView.as_view(),
        name="account_session_end",
    ),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("keep/", views.KeepAccountView.as_view(), name="keep_account"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
