import './telemetry';
import { startService } from '@cloud-connect/service-kit';
import { AppModule } from './app.module';
import { loadServiceConfig, SERVICE_NAME } from './config';

startService({
  name: SERVICE_NAME,
  loadConfig: loadServiceConfig,
  module: (context) => AppModule.register(context),
  // PHI batches: up to 100 records of base64 text (10 KB records are ~1.4 MB).
  bodyLimit: () => 8 * 1024 * 1024,
});
