import { createAdapter, type VendorEndpoints } from '../adapters/adapter-factory';
import type { EmrAdapter, EmrCredentials } from '../adapters/emr-adapter';
import type { AdapterSettings } from '../adapters/http';
import type { EmrCredentialStore } from './credential-store';

/**
 * Adapters per site, built from the credentials in Vault and kept (with their tokens and
 * sessions) until the connection changes.
 */
export class EmrAdapters {
  private readonly cache = new Map<string, Promise<EmrAdapter | null>>();

  constructor(
    private readonly store: EmrCredentialStore,
    private readonly endpoints: VendorEndpoints,
    private readonly settings: AdapterSettings,
  ) {}

  build(credentials: EmrCredentials): EmrAdapter {
    return createAdapter(credentials, this.endpoints, this.settings);
  }

  forSite(siteNumber: string): Promise<EmrAdapter | null> {
    let adapter = this.cache.get(siteNumber);
    if (!adapter) {
      adapter = this.store
        .load(siteNumber)
        .then((credentials) => (credentials ? this.build(credentials) : null));
      adapter.catch(() => this.cache.delete(siteNumber));
      this.cache.set(siteNumber, adapter);
    }
    return adapter;
  }

  use(siteNumber: string, adapter: EmrAdapter): void {
    this.cache.set(siteNumber, Promise.resolve(adapter));
  }

  forget(siteNumber: string): void {
    this.cache.delete(siteNumber);
  }
}
