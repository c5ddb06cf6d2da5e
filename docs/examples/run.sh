#!/usr/bin/env bash
# Runs every command shown on the pages in docs/examples/ against the data
# sets in ../shared/realdata (read in place, never copied) and checks a
# handful of numbers per data set.
#
#   bash docs/examples/run.sh PATH_TO_CXM_BINARY      (from the repo root)
#
# Each command is run exactly as its page shows it, with `--format json`
# added; stdout and stderr go to a temporary folder (mktemp -d) that is
# removed at the end. Nothing is written into the repo or into shared/.
#
# The expected numbers below were NOT taken from cxm: each was computed
# once with a small python3 script reading the raw file with the csv /
# zipfile modules, as its comment says.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: bash docs/examples/run.sh PATH_TO_CXM_BINARY" >&2
  exit 2
fi
case "$1" in
  /*) CXM=$1 ;;
  *) CXM=$PWD/$1 ;;
esac
[[ -x "$CXM" ]] || { echo "not an executable: $CXM" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ -d ../shared/realdata ]] || { echo "../shared/realdata not found (run from the repo root, next to shared/)" >&2; exit 2; }

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

passed=0
failed=0
example_failed=0

fail() {
  failed=$((failed + 1))
  example_failed=$((example_failed + 1))
  echo "  FAIL $*"
}

# run NAME EXPECTED_EXIT ARGS...: runs cxm ARGS --format json, keeps
# stdout in $OUT/NAME.json and stderr in $OUT/NAME.err, checks the exit code.
run() {
  local name=$1 want=$2 rc=0
  shift 2
  "$CXM" "$@" --format json >"$OUT/$name.json" 2>"$OUT/$name.err" || rc=$?
  if [[ $rc == "$want" ]]; then
    passed=$((passed + 1))
  else
    fail "$name: exit code $rc, expected $want (cxm $*)"
    sed 's/^/    /' "$OUT/$name.err" | head -5
  fi
}

# get NAME EXPR: evaluates the python expression EXPR on the JSON output
# of run NAME, bound to `d`.
get() {
  python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception as e:
    print("<no value: %s: %s>" % (type(e).__name__, e))' "$OUT/$1.json" "$2"
}

# eq LABEL EXPECTED ACTUAL: exact comparison (counts, text).
eq() {
  if [[ "$2" == "$3" ]]; then passed=$((passed + 1)); else fail "$1: expected $2, got $3"; fi
}

# near LABEL EXPECTED ACTUAL: floats, relative tolerance 1e-9.
near() {
  if python3 -c 'import sys, math; sys.exit(0 if math.isclose(float(sys.argv[1]), float(sys.argv[2]), rel_tol=1e-9) else 1)' "$2" "$3" 2>/dev/null; then
    passed=$((passed + 1))
  else
    fail "$1: expected $2, got $3"
  fi
}

# has LABEL FILE TEXT: FILE (in $OUT) contains TEXT.
has() {
  if grep -qF -- "$3" "$OUT/$2"; then passed=$((passed + 1)); else fail "$1: \`$3\` not in $2"; fi
}

done_example() {
  if [[ $example_failed -eq 0 ]]; then echo "$1: ok"; else echo "$1: $example_failed failed"; fi
  example_failed=0
}

# --------------------------------------------------------------------------
# servicenow (docs/examples/servicenow.md)
# --------------------------------------------------------------------------
SN_ROWS=119998        # data rows of incident_event_log.csv inside the zip
SN_INCIDENTS=20769    # distinct `number` values
SN_ESCALATED=9843     # incidents whose last row has reassignment_count >= 1 (47.39 %)
SN_BACKLOG=1418       # incidents whose last row has resolved_at = "?" (all opened before as-of 2017-02-10 14:18)
SN_REOPENED=233       # incidents with a resolved_at and reopen_count > 0 on their last row
SN_REOPENS=275        # sum of reopen_count over those resolved incidents
SN_CRITICAL=220       # incidents whose last row has priority "1 - Critical"
SN_BAD_ROWS=57,039    # rows whose opened_at does not parse with %m/%d/%Y %H:%M
SN_SLA_MET=13356      # last rows resolved within 4 h ("1 - Critical") or 5 days (the rest) of opened_at
SN_SLA_BREACHED=7413  # 5995 resolved later, plus 1418 unresolved and past their target at as-of 2017-02-10 14:18

run sn_month 0 support --config docs/examples/servicenow/cxm.toml --period month
eq "servicenow rows_read" "$SN_ROWS" "$(get sn_month "d['meta']['inputs']['tickets']['rows_read']")"
eq "servicenow incidents" "$SN_INCIDENTS" "$(get sn_month "sum(r['tickets_created'] for r in d['support'])")"
eq "servicenow escalated" "$SN_ESCALATED" "$(get sn_month "sum(r['escalated_count'] for r in d['support'])")"
eq "servicenow backlog at as-of" "$SN_BACKLOG" "$(get sn_month "d['support'][-1]['backlog_count']")"
eq "servicenow reopened" "$SN_REOPENED" "$(get sn_month "sum(r['reopened_count'] for r in d['support'])")"
eq "servicenow reopens" "$SN_REOPENS" "$(get sn_month "sum(r['reopens_total'] for r in d['support'])")"
has "servicenow duplicate summary" sn_month.err "duplicate_id ticket_id: 99229"

run sn_priority 0 support --config docs/examples/servicenow/cxm.toml --period year --by priority
eq "servicenow critical" "$SN_CRITICAL" "$(get sn_priority "sum(r['tickets_created'] for r in d['support'] if r['priority'] == '1 - Critical')")"

run sn_wrong 1 support --config docs/examples/servicenow/wrong-format.toml
has "servicenow wrong format: column" sn_wrong.err "in column opened_at"
has "servicenow wrong format: suggestion" sn_wrong.err "parse as %d/%m/%Y %H:%M"
has "servicenow wrong format: count" sn_wrong.err "$SN_BAD_ROWS of 119,998"
run sn_sla 0 support --config docs/examples/servicenow/sla.toml --period month
eq "servicenow sla met" "$SN_SLA_MET" "$(get sn_sla "sum(r['sla_resolution_met'] for r in d['sla'])")"
eq "servicenow sla breached" "$SN_SLA_BREACHED" "$(get sn_sla "sum(r['sla_resolution_breached'] for r in d['sla'])")"
eq "servicenow sla first response not measured" "0" "$(get sn_sla "sum(r['sla_frt_met'] + r['sla_frt_breached'] for r in d['sla'])")"
done_example servicenow

# --------------------------------------------------------------------------
# kaggle-tickets (docs/examples/kaggle-tickets.md)
# --------------------------------------------------------------------------
KG_NO_RESPONSE=2819   # rows with an empty "First Response Time"
KG_USED=5650          # rows with a "First Response Time"
KG_RATED=2769         # rows with a "Customer Satisfaction Rating"
KG_SATISFIED=1087     # ratings of 4.0 or 5.0
KG_NEGATIVE=1365      # rows whose "Time to Resolution" is before "First Response Time"
KG_PENDING=2881       # rows with a "First Response Time" and no "Time to Resolution"
KG_CHAT_RATED=674     # rated rows with "Ticket Channel" Chat
KG_CHAT_SATISFIED=280 # of those, ratings of 4.0 or 5.0
KG_CRITICAL=1437      # rows with a "First Response Time" and "Ticket Priority" Critical

run kg_default 1 support --config docs/examples/kaggle-tickets/cxm.toml
has "kaggle default: stops" kg_default.err "2,819 of 8,469 tickets rows (33.3%) are missing_required in column First Response Time"
has "kaggle default: wording" kg_default.err "a column mapped to the wrong source, or one that is mostly empty"

run kg_day 0 support --config docs/examples/kaggle-tickets/cxm.toml --max-excluded 0.4 --period day
eq "kaggle rows_used" "$KG_USED" "$(get kg_day "d['meta']['inputs']['tickets']['rows_used']")"
eq "kaggle missing created_at" "$KG_NO_RESPONSE" "$(get kg_day "[f['count'] for f in d['data_quality']['tickets'] if f['reason'] == 'missing_required'][0]")"
eq "kaggle negative durations" "$KG_NEGATIVE" "$(get kg_day "[f['count'] for f in d['data_quality']['tickets'] if f['reason'] == 'negative_duration'][0]")"
eq "kaggle ratings" "$KG_RATED" "$(get kg_day "sum(r['csat_responses'] for r in d['support'])")"
near "kaggle csat_pct" "$(python3 -c "print(100 * $KG_SATISFIED / $KG_RATED)")" \
  "$(get kg_day "sum(r['csat_pct'] * r['csat_responses'] for r in d['support']) / sum(r['csat_responses'] for r in d['support'])")"
eq "kaggle backlog at as-of" "$KG_PENDING" "$(get kg_day "d['support'][-1]['backlog_count']")"

run kg_channel 0 support --config docs/examples/kaggle-tickets/cxm.toml --max-excluded 0.4 --period year --by channel
eq "kaggle channels" "Chat,Email,Phone,Social media" "$(get kg_channel "','.join(r['channel'] for r in d['support'])")"
near "kaggle Chat csat_pct" "$(python3 -c "print(100 * $KG_CHAT_SATISFIED / $KG_CHAT_RATED)")" "$(get kg_channel "d['support'][0]['csat_pct']")"

run kg_priority 0 support --config docs/examples/kaggle-tickets/cxm.toml --max-excluded 0.4 --period year --by priority
eq "kaggle Critical tickets" "$KG_CRITICAL" "$(get kg_priority "[r['tickets_created'] for r in d['support'] if r['priority'] == 'Critical'][0]")"

run kg_status 0 support --config docs/examples/kaggle-tickets/cxm.toml --max-excluded 0.4 --period year --by status
eq "kaggle Pending tickets" "$KG_PENDING" "$(get kg_status "[r['tickets_created'] for r in d['support'] if r['status'] == 'Pending Customer Response'][0]")"
done_example kaggle-tickets

# --------------------------------------------------------------------------
# cdnow (docs/examples/cdnow.md)
# --------------------------------------------------------------------------
CD_ROWS=69659          # data lines of CDNOW_master.txt
CD_JAN97=7846          # distinct customer_id with a date in 199701
CD_JAN97_REPEAT=753    # of those, customers with 2+ distinct dates in 199701
CD_JAN97_ORDERS=8928   # lines with a date in 199701
CD_JAN97_REVENUE=299060.17  # sum of dollar_value (4th column) over those lines
CD_JUN98=1506          # distinct customer_id with a date in 199806
CD_JUN98_REPEAT=294    # of those, customers with 2+ distinct dates in 199806
CD_JUN98_ORDERS=2043   # lines with a date in 199806
CD_JUN98_REVENUE=76109.30   # sum of dollar_value over those lines
CD_CUSTOMERS=23570     # distinct customer_id (all first bought by 1997-03-31)
CD_REPEAT_BY_JUN98=11516  # customers with 2+ distinct purchase dates by 1998-06-30
CD_REVENUE=2500315.63  # sum of dollar_value over all lines

run cd_month 0 purchases --config docs/examples/cdnow/cxm.toml
eq "cdnow rows_used" "$CD_ROWS" "$(get cd_month "d['meta']['inputs']['transactions']['rows_used']")"
eq "cdnow period" "month" "$(get cd_month "d['meta']['rules']['purchases_period']")"
eq "cdnow 1997-01 customers" "$CD_JAN97" "$(get cd_month "d['purchases'][0]['customers_purchasing']")"
near "cdnow 1997-01 repeat rate" "$(python3 -c "print($CD_JAN97_REPEAT / $CD_JAN97)")" "$(get cd_month "d['purchases'][0]['repeat_purchase_rate']")"
eq "cdnow 1997-01 orders" "$CD_JAN97_ORDERS" "$(get cd_month "d['purchases'][0]['orders']")"
near "cdnow 1997-01 revenue" "$CD_JAN97_REVENUE" "$(get cd_month "d['purchases'][0]['revenue']")"
near "cdnow 1997-01 purchase frequency" "$(python3 -c "print($CD_JAN97_ORDERS / $CD_JAN97)")" "$(get cd_month "d['purchases'][0]['purchase_frequency']")"
near "cdnow 1997-01 average order value" "$(python3 -c "print($CD_JAN97_REVENUE / $CD_JAN97_ORDERS)")" "$(get cd_month "d['purchases'][0]['average_order_value']")"
eq "cdnow 1998-06 customers" "$CD_JUN98" "$(get cd_month "d['purchases'][-1]['customers_purchasing']")"
near "cdnow 1998-06 repeat rate" "$(python3 -c "print($CD_JUN98_REPEAT / $CD_JUN98)")" "$(get cd_month "d['purchases'][-1]['repeat_purchase_rate']")"
eq "cdnow 1998-06 orders" "$CD_JUN98_ORDERS" "$(get cd_month "d['purchases'][-1]['orders']")"
near "cdnow 1998-06 revenue" "$CD_JUN98_REVENUE" "$(get cd_month "d['purchases'][-1]['revenue']")"
near "cdnow lifetime repeat rate" "$(python3 -c "print($CD_REPEAT_BY_JUN98 / $CD_CUSTOMERS)")" "$(get cd_month "d['purchases'][-1]['repeat_purchase_rate_lifetime']")"
eq "cdnow orders" "$CD_ROWS" "$(get cd_month "sum(r['orders'] for r in d['purchases'])")"
near "cdnow revenue" "$CD_REVENUE" "$(get cd_month "sum(r['revenue'] for r in d['purchases'])")"

run cd_nodelim 1 purchases --config docs/examples/cdnow/no-delimiter.toml
has "cdnow without delimiter: suggestion" cd_nodelim.err 'only one column found, with runs of spaces: set `delimiter = "whitespace"`'
done_example cdnow

# --------------------------------------------------------------------------
# alexa (docs/examples/alexa.md)
# --------------------------------------------------------------------------
AX_ROWS=3150        # data rows of amazon_alexa.tsv (tab-separated, BOM)
AX_SATISFIED=2741   # rating 4 or 5
AX_JULY=2913        # rows whose date is in Jul-18
AX_JULY_SAT=2550    # of those, rating 4 or 5

run ax_month 0 surveys --config docs/examples/alexa/cxm.toml --period month
eq "alexa responses" "$AX_ROWS" "$(get ax_month "sum(r['csat_responses'] for r in d['surveys'])")"
eq "alexa July responses" "$AX_JULY" "$(get ax_month "d['surveys'][-1]['csat_responses']")"
near "alexa July csat_pct" "$(python3 -c "print(100 * $AX_JULY_SAT / $AX_JULY)")" "$(get ax_month "d['surveys'][-1]['csat_pct']")"

run ax_variation 0 surveys --config docs/examples/alexa/cxm.toml --period year --by variation
near "alexa csat_pct" "$(python3 -c "print(100 * $AX_SATISFIED / $AX_ROWS)")" \
  "$(get ax_variation "sum(r['csat_pct'] * r['csat_responses'] for r in d['surveys']) / $AX_ROWS")"

run ax_nps 0 surveys --config docs/examples/alexa/nps-default.toml --period year
eq "alexa as NPS: detractors" "$AX_ROWS" "$(get ax_nps "d['surveys'][0]['detractors']")"
has "alexa as NPS: note" ax_nps.err "none above 5"

run ax_nofmt 1 surveys --config docs/examples/alexa/no-date-format.toml
has "alexa without date format: column" ax_nofmt.err "column date: cannot parse"
has "alexa without date format: suggestion" ax_nofmt.err "failing values parse as %d-%b-%y"
done_example alexa

# --------------------------------------------------------------------------
# ravenstack (docs/examples/ravenstack.md)
# --------------------------------------------------------------------------
RS_LINES=4987          # subscription rows minus the 13 with end_date <= start_date
RS_MRR_DEC24=10159608  # sum of mrr_amount over those lines with start_date < 2025-01-01 <= end_date (empty = open)
RS_CUSTOMERS_DEC24=500 # accounts whose such sum is > 0
RS_FINTECH_DEC24=2416050  # the same sum for accounts with industry FinTech
RS_COHORT_DEC24=26     # accounts whose earliest line with mrr_amount > 0 starts in 2024-12
RS_TS_MEDIAN_2024=24   # median of (closed_at - submitted_at) in hours, tickets closed in 2024
RS_VENDOR_MEDIAN_2024=35  # median of resolution_time_hours, tickets submitted in 2024
RS_FRT_MEDIAN_2024=89  # median of first_response_time_minutes, tickets submitted in 2024
RS_ESCALATED=95        # escalation_flag = TRUE
RS_RATED_2024=613      # satisfaction_score given, closed in 2024
RS_TICKETS_90D=265     # tickets submitted 2024-10-03 .. 2024-12-31 (the health window)
RS_ENTERPRISE_DEC24=7546876  # sum of mrr_amount over the 4,987 lines with plan_tier Enterprise and start_date < 2025-01-01 <= end_date (empty = open)
RS_ENTERPRISE_CUSTOMERS_DEC24=461  # accounts whose such Enterprise sum is > 0
RS_USAGE_KNOWN=25000   # rows of ravenstack_feature_usage.csv whose subscription_id appears in ravenstack_subscriptions.csv
RS_F12_90D=919         # sum of usage_count of feature_12 rows dated 2024-10-03 .. 2024-12-31
RS_F12_ACCOUNTS=374    # accounts (subscription_id -> account_id) with a feature_12 row

run rs_revenue 0 revenue --config docs/examples/ravenstack/cxm.toml
eq "ravenstack lines" "$RS_LINES" "$(get rs_revenue "d['meta']['inputs']['subscriptions']['rows_used']")"
near "ravenstack mrr_end 2024-12" "$RS_MRR_DEC24" "$(get rs_revenue "d['revenue'][-1]['mrr_end']")"
eq "ravenstack customers 2024-12" "$RS_CUSTOMERS_DEC24" "$(get rs_revenue "d['revenue'][-1]['customers_end']")"

run rs_industry 0 revenue --config docs/examples/ravenstack/cxm.toml --by industry --since 2024-12-01
near "ravenstack FinTech mrr_end" "$RS_FINTECH_DEC24" "$(get rs_industry "[r['mrr_end'] for r in d['revenue'] if r['industry'] == 'FinTech'][0]")"

run rs_plan 0 revenue --config docs/examples/ravenstack/cxm.toml --by plan_tier --since 2024-12-01
near "ravenstack Enterprise mrr_end" "$RS_ENTERPRISE_DEC24" "$(get rs_plan "[r['mrr_end'] for r in d['revenue'] if r['plan_tier'] == 'Enterprise'][0]")"
eq "ravenstack Enterprise customers" "$RS_ENTERPRISE_CUSTOMERS_DEC24" "$(get rs_plan "[r['customers_end'] for r in d['revenue'] if r['plan_tier'] == 'Enterprise'][0]")"
near "ravenstack plans add up" "$RS_MRR_DEC24" "$(get rs_plan "sum(r['mrr_end'] for r in d['revenue'])")"
has "ravenstack plan_tier from the lines" rs_plan.err "used each subscription line's own value"
eq "ravenstack revenue_segments" "True" "$(get rs_plan "d['meta']['rules']['revenue_segments'].startswith('per line')")"

run rs_cohorts 0 cohorts --config docs/examples/ravenstack/cxm.toml
eq "ravenstack cohort 2024-12" "$RS_COHORT_DEC24" "$(get rs_cohorts "[r['accounts'] for r in d['cohorts'] if r['cohort'] == '2024-12-01'][0]")"

run rs_vendor 0 support --config docs/examples/ravenstack/cxm.toml --period year
near "ravenstack vendor resolution median" "$RS_VENDOR_MEDIAN_2024" "$(get rs_vendor "d['support'][-1]['resolution_median_hours']")"
near "ravenstack FRT median" "$RS_FRT_MEDIAN_2024" "$(get rs_vendor "d['support'][-1]['frt_median_minutes']")"
eq "ravenstack escalated" "$RS_ESCALATED" "$(get rs_vendor "sum(r['escalated_count'] for r in d['support'])")"
eq "ravenstack ratings 2024" "$RS_RATED_2024" "$(get rs_vendor "d['support'][-1]['csat_responses']")"
eq "ravenstack resolution source" "vendor" "$(get rs_vendor "d['meta']['rules']['resolution_source']")"

run rs_timestamps 0 support --config docs/examples/ravenstack/timestamps.toml --period year
near "ravenstack timestamp resolution median" "$RS_TS_MEDIAN_2024" "$(get rs_timestamps "d['support'][-1]['resolution_median_hours']")"
has "ravenstack durations note" rs_timestamps.err 'both `solved_at` and `resolution_minutes` are mapped'

run rs_health 0 health --config docs/examples/ravenstack/cxm.toml --at-risk
eq "ravenstack at-risk = red in summary" "$(get rs_health "d['health_summary'][-1]['health_red']")" "$(get rs_health "len(d['health'])")"
run rs_health_all 0 health --config docs/examples/ravenstack/cxm.toml
near "ravenstack tickets in 90 days" "$RS_TICKETS_90D" "$(get rs_health_all "sum(r['tickets_value'] or 0 for r in d['health'])")"
eq "ravenstack usage rows used" "$RS_USAGE_KNOWN" "$(get rs_health_all "d['meta']['inputs']['usage']['rows_used']")"
eq "ravenstack usage findings" "0" "$(get rs_health_all "len(d['data_quality']['usage'])")"
near "ravenstack feature_12 in 90 days" "$RS_F12_90D" "$(get rs_health_all "sum(r['feature_12_value'] or 0 for r in d['health'])")"
eq "ravenstack feature_12 accounts" "$RS_F12_ACCOUNTS" "$(get rs_health_all "sum(r['feature_12_value'] is not None for r in d['health'])")"
eq "ravenstack health as-of" "2024-12-31" "$(get rs_health_all "d['meta']['rules']['health_as_of']")"
done_example ravenstack

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
