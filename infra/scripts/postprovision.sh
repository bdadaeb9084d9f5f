#!/bin/sh
# azd's post-provision hook: sets up the database (setup-database.sh), then stores the usage API
# token in Key Vault if USAGE_API_TOKEN is in the environment (`azd env set USAGE_API_TOKEN …`)
# and the vault does not hold it yet. Rotating the token later is `az keyvault secret set` alone
# (README, "Operating it"); this never overwrites it.
#
# Right after the first provisioning the deployer's Key Vault role may not be in effect yet (role
# assignments take up to 10 minutes to propagate): the vault then answers 403, which says nothing
# about the secret. Only "SecretNotFound" means there is none; a 403 is retried for a while, then
# fails the hook with what to do, instead of being taken for a missing secret.
set -eu
here="$(dirname "$0")"

sh "$here/setup-database.sh"

: "${AZURE_KEY_VAULT_NAME:?not set: run from azd, or export the deployment outputs}"
: "${AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME:?not set: run from azd, or export the deployment outputs}"
vault="$AZURE_KEY_VAULT_NAME"
secret="$AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME"
errors="$(mktemp)"
token_file=""
trap 'rm -f "$errors" ${token_file:+"$token_file"}' EXIT

# Runs a Key Vault command; while the vault answers 403 (the role not yet in effect), waits and
# tries again, for about five minutes. Returns the command's status; its error text is in $errors.
with_rbac_retry() {
  for wait_seconds in 10 20 30 60 60 60 60; do
    if "$@" 2>"$errors"; then return 0; fi
    grep -q 'Forbidden' "$errors" || return 1
    echo "postprovision: Key Vault refuses access for now (role assignments take up to 10 minutes to take effect); retrying in ${wait_seconds}s" >&2
    sleep "$wait_seconds"
  done
  "$@" 2>"$errors"
}

if with_rbac_retry az keyvault secret show --vault-name "$vault" --name "$secret" --query id --output none; then
  echo "postprovision: the usage API token is in Key Vault"
  exit 0
elif ! grep -q 'SecretNotFound' "$errors"; then
  echo "postprovision: could not tell whether Key Vault $vault holds the usage API token:" >&2
  cat "$errors" >&2
  echo "postprovision: if that is a 403, your Key Vault Secrets Officer role is not in effect yet; run 'azd hooks run postprovision' in a few minutes" >&2
  exit 1
fi

if [ -z "${USAGE_API_TOKEN:-}" ]; then
  echo "postprovision: no usage API token yet; the daily usage pull fails until you set it:" >&2
  echo "  az keyvault secret set --vault-name $vault --name $secret --file <file holding the token>" >&2
  exit 0
fi

# through a private file, never the command line (which other users of this machine can see)
token_file="$(mktemp)"
chmod 600 "$token_file"
printf '%s' "$USAGE_API_TOKEN" > "$token_file"
if with_rbac_retry az keyvault secret set --vault-name "$vault" --name "$secret" --file "$token_file" --encoding utf-8 --output none; then
  echo "postprovision: stored the usage API token in Key Vault"
else
  echo "postprovision: could not store the usage API token in Key Vault $vault:" >&2
  cat "$errors" >&2
  exit 1
fi
