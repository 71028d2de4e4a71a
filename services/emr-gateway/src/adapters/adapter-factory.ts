import { AccuroAdapter } from './accuro.adapter';
import type { EmrAdapter, EmrCredentials } from './emr-adapter';
import { FhirAdapter } from './fhir.adapter';
import type { AdapterSettings } from './http';
import { OscarAdapter } from './oscar.adapter';
import { TelusAdapter } from './telus.adapter';

export interface VendorEndpoints {
  /** TELUS Health integration endpoint (PS Suite, Med Access). */
  telusApiUrl: string;
  /** QHR Accuro API endpoint. */
  accuroApiUrl: string;
}

/** One adapter per EMR type, built from the site's credentials. */
export function createAdapter(
  credentials: EmrCredentials,
  endpoints: VendorEndpoints,
  settings: AdapterSettings,
): EmrAdapter {
  switch (credentials.type) {
    case 'ps-suite':
    case 'med-access':
      return new TelusAdapter(credentials, endpoints.telusApiUrl, settings);
    case 'accuro':
      return new AccuroAdapter(credentials, endpoints.accuroApiUrl, settings);
    case 'oscar-pro':
      return new OscarAdapter(credentials, settings);
    case 'chr':
    case 'fhir-r4':
      return new FhirAdapter(credentials, settings);
  }
}
