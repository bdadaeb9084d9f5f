#!/bin/sh
# azd's post-provision hook: sets up the database (setup-database.sh), then stores the usage API
# token in Key Vault if USAGE_API_TOKEN is in the environment (`azd env set USAGE_API_TOKEN …`)
# and the vault does not hold it yet. Rotating the token later is `az keyvault secret set` alone
# (README, "Operating it"); this never overwrites it.
set -eu
here="$(dirname "$0")"

sh "$here/setup-database.sh"

: "${AZURE_KEY_VAULT_NAME:?not set: run from azd, or export the deployment outputs}"
: "${AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME:?not set: run from azd, or export the deployment outputs}"

if az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name "$AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME" --query id --output none 2>/dev/null; then
  echo "postprovision: the usage API token is in Key Vault"
elif [ -n "${USAGE_API_TOKEN:-}" ]; then
  # through a private file, never the command line (which other users of this machine can see)
  token_file="$(mktemp)"
  trap 'rm -f "$token_file"' EXIT
  chmod 600 "$token_file"
  printf '%s' "$USAGE_API_TOKEN" > "$token_file"
  az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name "$AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME" \
    --file "$token_file" --encoding utf-8 --output none
  echo "postprovision: stored the usage API token in Key Vault"
else
  echo "postprovision: no usage API token yet; the daily usage pull fails until you set it:" >&2
  echo "  az keyvault secret set --vault-name $AZURE_KEY_VAULT_NAME --name $AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME --file <file holding the token>" >&2
fi
