import type { CapabilityStatement } from '@medplum/fhirtypes';
import { SERVED_RESOURCES } from '../fhir-messages/served-resources';

/** The version of the software serving this API (the workspace's release version). */
export const SOFTWARE_VERSION = '0.1.0';

/** GET /fhir/metadata: what this FHIR endpoint serves, and where its OAuth token endpoint is. */
export function capabilityStatement(base: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    publisher: 'Cloud Connect',
    kind: 'instance',
    software: { name: 'Cloud Connect referral-intake', version: SOFTWARE_VERSION },
    implementation: { description: 'Cloud Connect FHIR pull API for integrators', url: `${base}/fhir` },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'SMART-on-FHIR',
                },
              ],
            },
          ],
          // No oauth-uris extension: it requires an `authorize` endpoint, which client
          // credentials (SMART Backend Services) do not have; discovery is the SMART configuration.
          description: `OAuth 2.0 client credentials (SMART Backend Services); token endpoint and scopes in ${base}/fhir/.well-known/smart-configuration`,
        },
        resource: SERVED_RESOURCES.filter((r) => r.interactions.length > 0).map((r) => ({
          type: r.type,
          interaction: r.interactions.map((code) => ({ code })),
          ...(r.searchInclude ? { searchInclude: r.searchInclude } : {}),
          ...(r.searchParam ? { searchParam: r.searchParam } : {}),
          ...(r.documentation ? { documentation: r.documentation } : {}),
        })),
        operation: [
          {
            name: 'process-message',
            definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
            documentation:
              "Status back with an access token: notify-update-status (scope system/Task.u, or system/ServiceRequest.u for a ServiceRequest focus), notify-add-appointment (system/Appointment.c), notify-update-appointment and notify-revoke-appointment (system/Appointment.u), about a referral of the token's site",
          },
        ],
      },
    ],
    messaging: [
      {
        documentation: 'Ontario eReferral messages (v0.11.1) to $process-message',
        supportedMessage: [
          'notify-update-status',
          'notify-add-appointment',
          'notify-update-appointment',
          'notify-revoke-appointment',
        ].map((event) => ({
          mode: 'receiver',
          definition: `https://ehealthontario.ca/fhir/MessageDefinition/${event}`,
        })),
      },
    ],
  };
}
