"""Pages after the award, under /projects/. Each sub-stage has its own views module (`views_<area>.py`);
add its paths in its block below."""

from django.urls import path

app_name = "projects"
urlpatterns: list = []

# --- contract and money ---
from shenbao.projects import views_contracts as vc  # noqa: E402

urlpatterns += [
    path("funder/", vc.funder_list, name="funder"),
    path("finance/", vc.finance, name="finance"),
    path("contract-templates/", vc.contract_templates, name="contract_templates"),
    path("<int:pk>/plan/", vc.plan, name="plan"),
    path("<int:pk>/contract/", vc.contract, name="contract"),
    path("<int:pk>/contract/generate/", vc.contract_generate, name="contract_generate"),
    path("<int:pk>/contract.<str:fmt>", vc.contract_file, name="contract_file"),
    path("<int:pk>/contract/scan/", vc.contract_scan_upload, name="contract_scan_upload"),
    path("<int:pk>/contract/return/", vc.contract_return, name="contract_return"),
    path("<int:pk>/contract/countersign/", vc.contract_countersign, name="contract_countersign"),
    path("contract-scans/<int:pk>/", vc.contract_scan_file, name="contract_scan_file"),
    path("contract-scans/<int:pk>/accept/", vc.contract_scan_accept, name="contract_scan_accept"),
    path("<int:pk>/money/", vc.money, name="money"),
    path("<int:pk>/money/milestones/", vc.money_milestones, name="money_milestones"),
    path("<int:pk>/money/pay/", vc.money_pay, name="money_pay"),
    path("<int:pk>/money/recover/", vc.money_recover, name="money_recover"),
    path("milestones/<int:pk>/confirm/", vc.money_confirm, name="money_confirm"),
    path("<int:pk>/final-accounts/", vc.final_accounts, name="final_accounts"),
]

# --- change requests ---
from shenbao.projects import views_changes as vch  # noqa: E402

urlpatterns += [
    path("<int:pk>/changes/", vch.project_changes, name="changes"),
    path("changes/<int:pk>/decide/", vch.decide, name="change_decide"),
]

# --- activities, sign-in, photos, news ---
from shenbao.projects import views_activities as va  # noqa: E402

urlpatterns += [
    path("mine/", va.mine, name="mine"),
    path("<int:pk>/", va.detail, name="detail"),
    path("<int:pk>/events/new/", va.event_new, name="event_new"),
    path("<int:pk>/filings/", va.filing_record, name="filing_record"),
    path("<int:pk>/news/", va.news_add, name="news_add"),
    path("events/<int:pk>/", va.event, name="event"),
    path("events/<int:pk>/qr.png", va.event_qr, name="event_qr"),
    path("events/<int:pk>/rename/", va.event_rename, name="event_rename"),
    path("events/<int:pk>/cancel/", va.event_cancel, name="event_cancel"),
    path("events/<int:pk>/signins.xlsx", va.signins_xlsx, name="signins_xlsx"),
    path("events/<int:pk>/photos/", va.photo_upload, name="photo_upload"),
    path("photos/<int:pk>/", va.photo_file, name="photo_file"),
    path("photos/<int:pk>/withdraw/", va.photo_withdraw, name="photo_withdraw"),
    path("news/<int:pk>/screenshot/", va.news_screenshot, name="news_screenshot"),
    path("deliverables/<int:pk>/deliver/", va.deliver, name="deliver"),
    path("deliverables/<int:pk>/file/", va.deliverable_file, name="deliverable_file"),
    path("signin/<str:token>/", va.signin, name="signin"),
    path("signin/<str:token>/done/", va.signin_done, name="signin_done"),
]

# --- deliverables, spot checks, acceptance, closure ---
from shenbao.projects import views_acceptance as vx  # noqa: E402

urlpatterns += [
    path("<int:pk>/acceptance/", vx.acceptance, name="acceptance"),
    path("<int:pk>/acceptance/upload/", vx.acceptance_upload, name="acceptance_upload"),
    path("<int:pk>/acceptance/submit/", vx.acceptance_submit, name="acceptance_submit"),
    path("<int:pk>/acceptance/decide/", vx.acceptance_decide, name="acceptance_decide"),
    path("<int:pk>/acceptance/form.<str:fmt>", vx.acceptance_form, name="acceptance_form"),
    path("<int:pk>/deferral/", vx.deferral_request, name="deferral_request"),
    path("<int:pk>/dossier/", vx.dossier, name="dossier"),
    path("acceptance-files/<int:pk>/", vx.acceptance_file, name="acceptance_file"),
    path("acceptance-files/<int:pk>/withdraw/", vx.acceptance_file_withdraw, name="acceptance_file_withdraw"),
    path("deferrals/<int:pk>/", vx.deferral_decide, name="deferral_decide"),
    path("spot-checks/", vx.spot_checks, name="spot_checks"),
    path("spot-checks/<int:pk>/", vx.spot_check, name="spot_check"),
    path("spot-check-items/<int:pk>/", vx.spot_check_finding, name="spot_check_finding"),
    path("closed/", vx.closed_report, name="closed_report"),
    path("acceptances/", vx.acceptances, name="acceptances"),
]

# --- volunteers ---
from shenbao.projects import views_volunteers as vv  # noqa: E402

urlpatterns += [
    path("volunteers/", vv.teams, name="volunteers"),
    path("volunteers/teams/new/", vv.team_new, name="volunteer_team_new"),
    path("volunteers/teams/<int:pk>/", vv.team, name="volunteer_team"),
    path("volunteers/teams/<int:pk>/qr.png", vv.team_qr, name="volunteer_team_qr"),
    path("volunteers/teams/<int:pk>/roster.xlsx", vv.roster_xlsx, name="volunteer_roster_xlsx"),
    path("volunteers/teams/<int:pk>/activities/new/", vv.activity_new, name="volunteer_activity_new"),
    path("volunteers/members/<int:pk>/decide/", vv.volunteer_decide, name="volunteer_decide"),
    path("volunteers/activities/<int:pk>/", vv.activity, name="volunteer_activity"),
    path("volunteers/activities/<int:pk>/cancel/", vv.activity_cancel, name="volunteer_activity_cancel"),
    path("volunteers/signups/<int:pk>/decide/", vv.signup_decide, name="volunteer_signup_decide"),
    path("volunteers/signups/<int:pk>/hours/", vv.signup_hours, name="volunteer_signup_hours"),
    path("volunteers/join/<str:token>/", vv.join, name="volunteer_join"),
    path("volunteers/me/<str:token>/", vv.me, name="volunteer_me"),
]

# --- reports ---
from shenbao.projects import views_reports as vr  # noqa: E402

urlpatterns += [
    path("reports/", vr.calls, name="reports"),
    path("reports/calls/<int:pk>/", vr.dashboard, name="report"),
    path("reports/calls/<int:pk>/charts/<slug:name>.svg", vr.chart_svg, name="report_chart"),
    path("reports/calls/<int:pk>/report.xlsx", vr.report_xlsx, name="report_xlsx"),
]
