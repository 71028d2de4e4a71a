import { TOKEN_PATH } from '../oauth/oauth.routes';

/** GET /fhir/metadata: what this FHIR endpoint serves, and where its OAuth token endpoint is. */
export function capabilityStatement(base: string): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    publisher: 'Cloud Connect',
    kind: 'instance',
    software: { name: 'Cloud Connect referral-intake' },
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
          description:
            'OAuth 2.0 client credentials (SMART Backend Services); see /.well-known/smart-configuration',
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: `${base}${TOKEN_PATH}` }],
            },
          ],
        },
        resource: [
          {
            type: 'ServiceRequest',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchInclude: ['ServiceRequest:subject', 'ServiceRequest:requester'],
            searchParam: [
              { name: '_id', type: 'token' },
              { name: '_lastUpdated', type: 'date' },
              { name: 'identifier', type: 'token' },
              { name: 'status', type: 'token' },
              { name: 'patient', type: 'reference' },
              { name: 'authored', type: 'date' },
            ],
          },
          {
            type: 'Bundle',
            interaction: [{ code: 'read' }],
            documentation: 'the original message bundle of a referral (ServiceRequest.meta.source)',
          },
        ],
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
