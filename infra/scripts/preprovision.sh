#!/bin/sh
# azd's pre-provision hook: when the deployment runs as a service principal (a CI pipeline), checks
# that the azd environment says so before anything is deployed. azd fills AZURE_PRINCIPAL_ID but
# not its type, and a role assignment whose principalType does not match the principal fails the
# deployment (UnmatchedPrincipalType). The SQL Entra admin of an application is also identified by
# its application (client) id, not its object id, and the templates cannot look that up.
#
# A person signed in: nothing to do. The templates also infer the type from the deployer when
# AZURE_PRINCIPAL_TYPE is empty; this hook makes the choice explicit and supplies the client id.
set -eu

kind="$(az account show --query user.type --output tsv)"
if [ "$kind" != servicePrincipal ]; then
  exit 0
fi

# for a service principal sign-in, user.name is its application (client) id
client_id="$(az account show --query user.name --output tsv)"
if [ "${AZURE_PRINCIPAL_TYPE:-}" = ServicePrincipal ] && [ "${AZURE_PRINCIPAL_CLIENT_ID:-}" = "$client_id" ]; then
  echo "preprovision: deploying as service principal $client_id"
  exit 0
fi

cat >&2 <<EOF
preprovision: you are signed in as a service principal (client id $client_id), but the azd
environment does not say so. Set these once, then run the same command again:

  azd env set AZURE_PRINCIPAL_TYPE ServicePrincipal
  azd env set AZURE_PRINCIPAL_CLIENT_ID $client_id

It also needs, once, an Entra administrator to give the SQL server's identity the Directory
Readers role (README, "Deploy to Azure", deploying from CI).
EOF
exit 1
