import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  keypadResult,
  mapTwilioStatusCallback,
  renderTwiml,
  renderVoiceScript,
  validateTwilioSignature,
  voiceWebhookStep,
  type DeliveryMessage,
} from '../../channels/index.js';
import { Unauthorized } from '../../core/errors.js';
import type { Services } from '../../context.js';
import { recordDeliveryStatus } from '../../events/messages.js';
import { messageSealContext } from '../../journeys/messages.js';
import { confirmKeypad } from '../../journeys/otp.js';

/**
 * What a Twilio-compatible provider calls back: a voice call's instructions when it is answered (after
 * answering-machine detection, so a voicemail gets the version without a code), the keys typed in a
 * keypad call, and delivery statuses. Every request must carry a valid `X-Twilio-Signature` for the
 * configured auth token and this server's public URL; the body is form-encoded as Twilio sends it.
 */
export async function twilioRoutes(app: FastifyInstance, s: Services, authToken: string): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const tags = ['channels'];
  const Params = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 2048 }));
  const signed = async (req: FastifyRequest) => {
    const ok = validateTwilioSignature({
      authToken,
      url: `${s.config.publicUrl}${req.url}`,
      params: (req.body ?? {}) as Record<string, string>,
      signature: req.headers['x-twilio-signature'] as string | undefined,
    });
    if (!ok) throw new Unauthorized('The request is not signed by the messaging provider.');
  };

  app.post('/v1/channels/twilio/voice/:messageId', {
    schema: {
      tags,
      summary: 'Provider callback: the instructions (TwiML) of a call when answered, and the keys typed on the handset',
      params: Type.Object({ messageId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      body: Params,
      consumes: ['application/x-www-form-urlencoded'],
    },
    preHandler: signed,
    handler: async (req, reply) => {
      const { messageId } = req.params as { messageId: string };
      const row = await s.db
        .selectFrom('messages as m')
        .leftJoin('otp_challenges as c', 'c.id', 'm.challenge_id')
        .select(['m.payload_sealed', 'm.channel', 'm.challenge_id', 'c.used_at', 'c.expires_at'])
        .where('m.id', '=', messageId)
        .executeTakeFirst();
      reply.type('text/xml');
      if (!row || row.channel !== 'voice') return renderTwiml([{ type: 'hangup' }], { language: 'fr-FR' });
      // A code already used or expired is not read out again (a replayed or late callback): hang up.
      if (row.challenge_id && (row.used_at || !row.expires_at || new Date(row.expires_at) <= s.clock.now()))
        return renderTwiml([{ type: 'hangup' }], { language: 'fr-FR' });
      // Erased an hour after it went out: nothing left to read.
      if (row.payload_sealed === null) return renderTwiml([{ type: 'hangup' }], { language: 'fr-FR' });
      const message = JSON.parse(s.sealer.open(row.payload_sealed, messageSealContext(messageId)).toString('utf8')) as DeliveryMessage;
      if (message.kind !== 'voice') return renderTwiml([{ type: 'hangup' }], { language: 'fr-FR' });
      const params = req.body as Record<string, string>;
      const step = voiceWebhookStep(message.script, params);
      if ('part' in step) {
        if (step.part === 'machine') await recordDeliveryStatus(s, { providerId: params.CallSid ?? '', status: 'machine' });
        return renderVoiceScript(message.script, step.part);
      }
      const said = params.CallSid ? await confirmKeypad(s, params.CallSid, step.dtmf) : keypadResult('fr', false);
      return renderTwiml([...said, { type: 'hangup' }], { language: message.script.language });
    },
  });

  app.post('/v1/channels/twilio/status', {
    schema: {
      tags,
      summary: 'Provider callback: delivery status of an SMS or a call',
      body: Params,
      consumes: ['application/x-www-form-urlencoded'],
    },
    preHandler: signed,
    handler: async (req, reply) => {
      const update = mapTwilioStatusCallback(req.body as Record<string, string>);
      if (update) await recordDeliveryStatus(s, update);
      return reply.code(204).send();
    },
  });
}
