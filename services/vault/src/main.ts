import './telemetry';
import { startService } from '@cloud-connect/service-kit';
import { AppModule } from './app.module';
import { loadServiceConfig, SERVICE_NAME } from './config';

startService({
  name: SERVICE_NAME,
  loadConfig: loadServiceConfig,
  module: (context) => AppModule.register(context),
});
