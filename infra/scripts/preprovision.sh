#!/bin/sh
# azd's pre-provision hook: when the deployment runs as a service principal (a CI pipeline), checks
# that the azd environment says so before anything is deployed. azd fills AZURE_PRINCIPAL_ID but
# not its type, and a role assignment whose principalType does not match the principal fails the
# deployment (UnmatchedPrincipalType). The SQL Entra admin of an application is also identified by
# its application (client) id, not its object id, and the templates cannot look that up.
#
# A person signed in: nothing to do. The templates also infer the type from the deployer when
# AZURE_PRINCIPAL_TYPE is empty; this hook makes the choice explicit and supplies the client id.
#
# It also keeps the SQL server's create-only properties right: the templates send them when
# AZURE_SQL_SERVER_NAME (the output of the last provisioning) does not name this server. After
# `azd down` the name stays in the environment although the server is gone: it is cleared here, so
# the server is created again with its Entra admin.
set -eu

if [ -n "${AZURE_SQL_SERVER_NAME:-}" ] && [ -n "${AZURE_RESOURCE_GROUP:-}" ]; then
  errors="$(mktemp)"
  if ! az sql server show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_SQL_SERVER_NAME" --query name --output none 2>"$errors"; then
    if grep -q -e 'ResourceNotFound' -e 'ResourceGroupNotFound' "$errors"; then
      echo "preprovision: SQL server $AZURE_SQL_SERVER_NAME no longer exists; it will be created again"
      azd env set AZURE_SQL_SERVER_NAME ''
    else
      cat "$errors" >&2
      rm -f "$errors"
      exit 1
    fi
  fi
  rm -f "$errors"
fi

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
