import { Global, Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { intakeSecrets, type IntakeConfig } from '../config';
import { DevelopmentKeyPhiCipher, PHI_CIPHER } from './phi-cipher';

/** The PHI cipher of this service: the development key provider until the SEK issue lands. */
@Global()
@Module({
  providers: [
    {
      provide: PHI_CIPHER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) => new DevelopmentKeyPhiCipher(intakeSecrets(config).phiKey),
    },
  ],
  exports: [PHI_CIPHER],
})
export class CryptoModule {}
