/**
 * Which storage account the pipeline talks to. In Azure the Functions host keeps its state in one
 * account (AzureWebJobsStorage__*) and the pipeline's data lives in another (DataStorage__*); a
 * local run has one Azurite account for both, with nothing more to set.
 */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../functions/core/settings.js';
import { createStorageClients } from '../functions/storage/blobStore.js';

const AZURITE = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;';

// what the Azure templates set on the function app
const AZURE = {
  AzureWebJobsStorage__accountName: 'stfunchost',
  AzureWebJobsStorage__blobServiceUri: 'https://stfunchost.blob.core.windows.net/',
  AzureWebJobsStorage__credential: 'managedidentity',
  DataStorage__blobServiceUri: 'https://stlake.blob.core.windows.net/',
  DataStorage__queueServiceUri: 'https://stlake.queue.core.windows.net/',
  DataStorage__credential: 'managedidentity',
  DataStorage__clientId: '00000000-0000-0000-0000-000000000001',
};

describe('storage clients', () => {
  it('use the one local account of AzureWebJobsStorage when nothing else is set (the local runner)', () => {
    const clients = createStorageClients(loadSettings({ AzureWebJobsStorage: AZURITE }));
    expect(clients.blobs.url).toBe('http://127.0.0.1:10000/devstoreaccount1');
    expect(clients.queues.url).toBe('http://127.0.0.1:10001/devstoreaccount1');
  });

  it('in Azure, use the data account, never the host account', () => {
    const clients = createStorageClients(loadSettings(AZURE));
    expect(clients.blobs.url).toBe('https://stlake.blob.core.windows.net/');
    expect(clients.queues.url).toBe('https://stlake.queue.core.windows.net/');
  });

  it('prefer a DataStorage connection string over the host one', () => {
    const other = AZURITE.replaceAll('devstoreaccount1', 'lakeaccount');
    const clients = createStorageClients(loadSettings({ AzureWebJobsStorage: AZURITE, DataStorage: other }));
    expect(clients.blobs.url).toBe('http://127.0.0.1:10000/lakeaccount');
  });

  it('refuse the host account alone, or half a data configuration, naming the settings', () => {
    const hostOnly = { AzureWebJobsStorage__accountName: 'stfunchost', AzureWebJobsStorage__blobServiceUri: 'https://stfunchost.blob.core.windows.net/' };
    expect(() => createStorageClients(loadSettings(hostOnly))).toThrow(/DataStorage__blobServiceUri and DataStorage__queueServiceUri/);
    const half = { AzureWebJobsStorage: AZURITE, DataStorage__blobServiceUri: 'https://stlake.blob.core.windows.net/' };
    expect(() => createStorageClients(loadSettings(half))).toThrow(/DataStorage__queueServiceUri/);
  });
});
