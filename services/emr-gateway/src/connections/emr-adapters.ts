import { checkEgressTarget, EgressError } from '@cloud-connect/service-kit';
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

  /**
   * Refuses (before any call) an EMR URL the egress rules forbid: not https, or a host that
   * resolves to a loopback, private, link-local or metadata address. Returns the reason.
   */
  async refusedUrl(credentials: EmrCredentials): Promise<string | null> {
    const urls: [string, string][] = [];
    if ('baseUrl' in credentials) urls.push(['baseUrl', credentials.baseUrl]);
    if ('auth' in credentials && credentials.auth.kind === 'client-credentials' && credentials.auth.tokenUrl)
      urls.push(['auth.tokenUrl', credentials.auth.tokenUrl]);
    for (const [field, url] of urls) {
      try {
        await checkEgressTarget(url, this.settings.egress.policy);
      } catch (error) {
        if (error instanceof EgressError) return `${field}: ${error.message}`;
        throw error;
      }
    }
    return null;
  }

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
