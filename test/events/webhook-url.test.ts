import { describe, expect, it } from 'vitest';
import { checkedWebhookUrl } from '../../src/events/webhook-url.js';
import { InvalidRequest } from '../../src/core/errors.js';

describe('where events may be delivered', () => {
  it('production delivers over https, or over http only to this machine', () => {
    expect(checkedWebhookUrl('https://hooks.bank.example/sesame', 'production')).toBe('https://hooks.bank.example/sesame');
    for (const local of ['http://localhost:9000/h', 'http://127.0.0.1:9000/h', 'http://[::1]:9000/h']) {
      expect(checkedWebhookUrl(local, 'production')).toBe(local);
    }
    expect(() => checkedWebhookUrl('http://hooks.bank.example/sesame', 'production')).toThrow(/https in production/);
    expect(checkedWebhookUrl('http://hooks.bank.example/sesame', 'development')).toBe('http://hooks.bank.example/sesame');
  });

  it('refusals are 400s naming url, and the URL kept is the normalised one', () => {
    let refusal: unknown = null;
    try {
      checkedWebhookUrl('https://user:pw@hooks.example/', 'development');
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(InvalidRequest);
    expect(refusal).toMatchObject({ status: 400, code: 'ERR_VALIDATION', details: { field: 'url' } });
    expect(String((refusal as Error).message)).not.toContain('pw');
    expect(checkedWebhookUrl('HTTPS://Hooks.Example:443/a/../b', 'production')).toBe('https://hooks.example/b');
  });
});
