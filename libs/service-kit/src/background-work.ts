import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type Type,
} from '@nestjs/common';

/** Work a service runs in the background while it is up (a dispatcher, a scheduler loop). */
export interface BackgroundWork {
  start(): void;
  stop(): Promise<void>;
}

/**
 * A provider that starts the `work` provider once the app has booted and stops it first on
 * shutdown (before the database and the broker are closed). List it in the module's providers.
 */
export function runWhileUp(work: Type<BackgroundWork>): Type {
  @Injectable()
  class RunWhileUp implements OnApplicationBootstrap, BeforeApplicationShutdown {
    constructor(@Inject(work) private readonly running: BackgroundWork) {}

    onApplicationBootstrap(): void {
      this.running.start();
    }

    async beforeApplicationShutdown(): Promise<void> {
      await this.running.stop();
    }
  }
  return RunWhileUp;
}
