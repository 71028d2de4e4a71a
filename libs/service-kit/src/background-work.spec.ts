import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { runWhileUp } from './background-work';

@Injectable()
class Loop {
  readonly events: string[] = [];
  start(): void {
    this.events.push('started');
  }
  async stop(): Promise<void> {
    await Promise.resolve();
    this.events.push('stopped');
  }
}

@Module({ providers: [Loop, runWhileUp(Loop)] })
class LoopModule {}

describe('runWhileUp', () => {
  it('starts the work once the app has booted and stops it on shutdown', async () => {
    const app = await NestFactory.createApplicationContext(LoopModule, { logger: false });
    const loop = app.get(Loop);
    expect(loop.events).toEqual(['started']);
    await app.close();
    expect(loop.events).toEqual(['started', 'stopped']);
  });
});
