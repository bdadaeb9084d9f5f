// Uploads reach the pipeline through Event Grid: the storage account's system topic publishes
// BlobCreated for `landing`, and the subscription delivers each event as a message to the
// `landing-events` queue, where the uploadIngest function's queue trigger picks it up.
//
// Why a queue, not the Functions blob trigger's webhook: a webhook endpoint needs the
// `blobs_extension` system key, which exists only once the code is deployed, so the templates
// would need a second pass or a post-deploy hook. A queue endpoint needs no key and no code: the
// subscription is complete in one deployment, events wait in the queue while the app is down or
// not yet deployed, the host retries a failing message and parks it in `landing-events-poison`
// (nothing lost), and the same path runs locally on Azurite.
//
// Event Grid delivers with its own system-assigned identity (the account's keys are off), so the
// identity gets two roles, each on the one resource it writes to.
param systemTopicName string
param location string
param tags object
param storageAccountName string
param landingContainerName string
param landingEventsQueueName string
param deadLetterContainerName string

var roles = {
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource landingEvents 'queues' existing = {
      name: landingEventsQueueName
    }
  }

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource deadLetter 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Event Grid may add messages to the landing-events queue, and to no other.
resource topicQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::landingEvents.id, systemTopic.id, roles.storageQueueDataMessageSender)
  scope: storage::queueService::landingEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ... and write undeliverable events to the dead-letter container, and to no other.
resource topicDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetter.id, systemTopic.id, roles.storageBlobDataContributor)
  scope: storage::blobService::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource landingBlobCreated 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'landing-blob-created'
  // Event Grid checks it may write to the queue when the subscription is created
  dependsOn: [topicQueueSender, topicDeadLetterWriter]
  properties: {
    deliveryWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: storage.id
          queueName: landingEventsQueueName
          // -1: the message never expires (the queue's default is 7 days); an event waits for the app
          queueMessageTimeToLiveInSeconds: -1
        }
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${landingContainerName}/blobs/'
    }
    // Retries for 24 hours (queue unreachable, throttled), then dead-letters. A 403 is not retried:
    // events raised in the minutes before the two roles above take effect go straight to the
    // dead-letter container (README, "Deploy to Azure": upload the first file after provisioning).
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output systemTopicName string = systemTopic.name
output subscriptionName string = landingBlobCreated.name
