#!/usr/bin/env bash
# The README's 5-minute tour, runnable: a bank back-end enrols a customer, logs them in with two
# elements (password + TOTP from oathtool) and authorises a payment whose authentication code is bound
# to its amount and payee. Needs bash, curl, jq and oathtool.
#
#   SESAME_URL=http://localhost:8080 SESAME_API_KEY=$(cat .data/dev-api-key.txt) bash examples/tour.sh
set -euo pipefail

URL=${SESAME_URL:-http://localhost:8080}
KEY=${SESAME_API_KEY:?set SESAME_API_KEY (npm start prints it; it is also in .data/dev-api-key.txt)}
for tool in curl jq oathtool; do command -v "$tool" >/dev/null || { echo "tour: $tool is required" >&2; exit 1; }; done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "tour: FAILED: $*" >&2; exit 1; }

# api METHOD PATH [JSON] EXPECTED_STATUS: prints the body, fails on any other status.
api() {
  local method=$1 path=$2 body=${3:-} expected=${4:-200} out status
  out=$(mktemp)
  status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$URL$path" \
    -H "authorization: Bearer $KEY" ${body:+-H 'content-type: application/json' --data "$body"})
  if [ "$status" != "$expected" ]; then cat "$out" >&2; rm -f "$out"; fail "$method $path answered $status, expected $expected"; fi
  cat "$out"; rm -f "$out"
}

# A TOTP code is accepted once: each step of the tour uses the next 30-second time step, waiting when needed.
# Call it as `next_totp` (not in a subshell, which would forget the step): it sets $TOTP.
LAST_STEP=0
next_totp() {
  local now step
  while :; do
    now=$(date +%s); step=$(( LAST_STEP + 1 > now / 30 - 1 ? LAST_STEP + 1 : now / 30 ))
    if [ "$step" -le $(( now / 30 + 1 )) ]; then break; fi
    sleep 1
  done
  LAST_STEP=$step
  TOTP=$(oathtool --totp -b "$SECRET" -N "@$(( step * 30 ))")
}

step "1. The bank registers a customer"
REF="tour-$(date +%s)-$RANDOM"
CUSTOMER=$(api POST /v1/customers "{\"ref\":\"$REF\",\"displayName\":\"Camille Durand\",\"email\":\"camille@example.com\",\"hasActiveCard\":true}" 201)
CID=$(jq -r .id <<<"$CUSTOMER"); echo "customer $CID ($REF)"

step "2. Password (knowledge) and TOTP (possession) are enrolled"
api POST "/v1/customers/$CID/authenticators/password" '{"password":"correct horse battery"}' 201 | jq -c '{kind,category,status}'
ENROL=$(api POST "/v1/customers/$CID/authenticators/totp" '{"label":"oathtool"}' 201)
SECRET=$(jq -r .secret <<<"$ENROL"); TOTP_ID=$(jq -r .id <<<"$ENROL")
echo "otpauth URI: $(jq -r .otpauthUri <<<"$ENROL")"
next_totp
api POST "/v1/customers/$CID/authenticators/$TOTP_ID/activate" "{\"code\":\"$TOTP\"}" | jq -c '{kind,category,status}'

step "3. Login: both elements in one attempt"
LOGIN=$(api POST /v1/operations "{\"customerId\":\"$CID\",\"data\":{\"type\":\"login\"}}" 201)
LOGIN_ID=$(jq -r .id <<<"$LOGIN")
next_totp
AUTH=$(api POST "/v1/operations/$LOGIN_ID/authenticate" "{\"factors\":[{\"method\":\"password\",\"password\":\"correct horse battery\"},{\"method\":\"totp\",\"code\":\"$TOTP\"}]}")
SESSION=$(jq -r .session.token <<<"$AUTH"); jq -c '{status,methods,categories,session:{expiresAt:.session.expiresAt,idleTimeoutSeconds:.session.idleTimeoutSeconds}}' <<<"$AUTH"
api POST /v1/sessions/introspect "{\"token\":\"$SESSION\"}" | jq -c '{customerId,expiresAt}'

step "4. A wrong attempt fails without saying which element was wrong"
BAD=$(api POST /v1/operations "{\"customerId\":\"$CID\",\"data\":{\"type\":\"login\"}}" 201 | jq -r .id)
api POST "/v1/operations/$BAD/authenticate" '{"factors":[{"method":"password","password":"wrong password"},{"method":"totp","code":"000000"}]}' 401 | jq -c '{code,detail,remainingAttempts}'

step "5. A payment of 250.00 EUR to Plomberie Martin, in the login session: the TOTP is applied now"
# Started in the session, the payment reuses the knowledge element of the login (EBA Q&A 2018_4141);
# the possession element is applied now and the authentication code is bound to amount and payee.
PAYMENT='{"type":"payment","amount":{"value":25000,"currency":"EUR"},"payee":{"name":"Plomberie Martin","iban":"FR76 3000 6000 0112 3456 7890 189"}}'
OP=$(api POST /v1/operations "{\"customerId\":\"$CID\",\"sessionToken\":\"$SESSION\",\"data\":$PAYMENT}" 201)
OP_ID=$(jq -r .id <<<"$OP"); jq -c '{id,type,linkHash,data}' <<<"$OP"
next_totp   # a TOTP code is accepted once: this may wait for the next 30-second step
CODE=$(api POST "/v1/operations/$OP_ID/authenticate" "{\"factors\":[{\"method\":\"totp\",\"code\":\"$TOTP\"}]}" | jq -r .authenticationCode)
echo "authentication code: ${CODE:0:40}…"

step "6. The bank verifies the code: signature offline (JWKS), then consumes it once"
JWKS=$(curl -sS "$URL/.well-known/jwks.json"); echo "JWKS: $(jq -c '[.keys[] | {kid,alg}]' <<<"$JWKS")"
jq -R 'split(".")[1] | gsub("-";"+") | gsub("_";"/") | @base64d | fromjson | {op,lh,amount,payees,methods,categories,reused,exp}' <<<"$CODE"
TAMPERED=${PAYMENT/25000/25001}
api POST /v1/authentication-codes/consume "{\"code\":\"$CODE\",\"data\":$TAMPERED}" 409 | jq -c '{code,detail}'
api POST /v1/authentication-codes/consume "{\"code\":\"$CODE\",\"data\":$PAYMENT}" | jq -c '{operationId,type,amount,payees}'
api POST /v1/authentication-codes/consume "{\"code\":\"$CODE\",\"data\":$PAYMENT}" 409 | jq -c '{code,detail}'

step "7. The customer's audit trail"
api GET "/v1/customers/$CID/audit" | jq -r '.items | reverse[] | "\(.seq)\t\(.type)\t\(.actor)"'

printf '\n\033[1mTour complete.\033[0m\n'
