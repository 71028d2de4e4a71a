import { NestFactory } from '@nestjs/core';
import { registeredModule } from './registered-module';

const GREETING = Symbol('GREETING');

const GreetingModule = registeredModule('GreetingModule', (name: string) => ({
  providers: [{ provide: GREETING, useValue: `hello ${name}` }],
  exports: [GREETING],
}));

describe('registeredModule', () => {
  it('is a module named as declared whose register(options) builds its providers from the options', async () => {
    expect(GreetingModule.name).toBe('GreetingModule');
    const app = await NestFactory.createApplicationContext(GreetingModule.register('clinic'), {
      logger: false,
    });
    expect(app.get(GREETING)).toBe('hello clinic');
    await app.close();
  });
});
