/**
 * The demo model stub's logic (plain TypeScript; lambdas/ingest/model-stub.ts is the adapter): a canned
 * Messages-API-shaped answer, and the usage event (docs/contract.md) a real serving tier would emit for the request.
 *
 * The prompt never leaves this function: the usage event carries only a coarse class and an unkeyed hash of
 * the normalised template. The classifier is a deliberately small keyword heuristic; a provider plugs in its
 * own serving-tier classifier, the event shape stays the same.
 */
import { createHash } from 'node:crypto';
import type { PromptClass, UsageEvent } from '../shared/contract';

/** Model ids the stub accepts in `/v1/models/{model}/messages`. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export interface StubRequest {
  accountId: string;
  requestId: string;
  model: string;
  /** The raw request body (JSON text), possibly base64 (API Gateway `isBase64Encoded`). */
  body: string | null | undefined;
  now: number;
}

export type StubResult =
  { ok: true; statusCode: 200; response: Record<string, unknown>; usage: UsageEvent } | { ok: false; statusCode: 400; error: string };

interface ContentBlock {
  type?: unknown;
  text?: unknown;
}
interface Message {
  role?: unknown;
  content?: unknown;
}

/** All user-visible text of a Messages request, plus whether it carried an image block. */
export function promptText(messages: Message[], system?: unknown): { text: string; hasImage: boolean } {
  const parts: string[] = [];
  let hasImage = false;
  if (typeof system === 'string') parts.push(system);
  for (const m of messages) {
    if (typeof m.content === 'string') parts.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const block of m.content as ContentBlock[]) {
        if (block && block.type === 'image') hasImage = true;
        if (block && typeof block.text === 'string') parts.push(block.text);
      }
    }
  }
  return { text: parts.join('\n'), hasImage };
}

/** Coarse prompt class, first match wins (docs/contract.md, "Usage event", `promptClass`). */
export function classifyPrompt(text: string, hasImage: boolean, hasTools: boolean): PromptClass {
  const t = text.toLowerCase();
  if (hasImage) return 'vision';
  if (/step[- ]by[- ]step|show (all )?your (reasoning|work)|chain[- ]of[- ]thought|explain your reasoning|think through/.test(t)) {
    return 'cot_elicitation';
  }
  if (/\b(rewrite|rephrase|paraphrase|reword)\b/.test(t)) return 'rewrite';
  if (hasTools || /\b(tool[_ ]?call|use the tools?|function call|agent)\b/.test(t)) return 'agentic';
  if (/```|\bfunction\b|\bclass\b|\bdef\b|\bcompile|\bstack trace|\bbug\b|typescript|python|javascript/.test(t)) return 'coding';
  if (t.trim().length === 0) return 'other';
  return 'chat';
}

/**
 * Template id: SHA-256 of the prompt with its variable parts blanked (numbers, quoted strings, emails, URLs,
 * whitespace runs), first 16 hex digits. Same template, same id, across accounts.
 */
export function templateIdOf(text: string): string {
  const normalised = text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/[\w.+-]+@[\w-]+\.[\w.-]+/g, '<email>')
    .replace(/"[^"]*"|'[^']*'/g, '<str>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 4000);
  return `t-${createHash('sha256').update(normalised).digest('hex').slice(0, 16)}`;
}

/** Rough token count (about 4 characters per token), at least 1. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Handle one POST /v1/models/{model}/messages. */
export function handleStubRequest(req: StubRequest): StubResult {
  if (!MODEL_ID_PATTERN.test(req.model)) return { ok: false, statusCode: 400, error: `invalid model id: ${JSON.stringify(req.model.slice(0, 120))}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body ?? '');
  } catch {
    return { ok: false, statusCode: 400, error: 'request body must be JSON with a messages array' };
  }
  if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as { messages?: unknown }).messages)) {
    return { ok: false, statusCode: 400, error: 'request body must be JSON with a messages array' };
  }
  const body = parsed as { messages: Message[]; system?: unknown; tools?: unknown; max_tokens?: unknown };
  const { text, hasImage } = promptText(body.messages, body.system);
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  const promptClass = classifyPrompt(text, hasImage, hasTools);
  const maxTokens = typeof body.max_tokens === 'number' && body.max_tokens > 0 ? Math.floor(body.max_tokens) : 1024;
  const inputTokens = estimateTokens(text);
  // Reasoning-style prompts get long answers, as a real model's would.
  const outputTokens = Math.min(maxTokens, promptClass === 'cot_elicitation' ? 2048 : 256);
  const answer = `This is the distill-guard demo model stub answering on ${req.model}.`;
  return {
    ok: true,
    statusCode: 200,
    response: {
      id: `msg_${req.requestId}`,
      type: 'message',
      role: 'assistant',
      model: req.model,
      content: [{ type: 'text', text: answer }],
      stop_reason: 'end_turn',
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    },
    usage: {
      type: 'usage',
      requestId: req.requestId,
      accountId: req.accountId,
      timestamp: req.now,
      model: req.model,
      promptClass,
      templateId: templateIdOf(text),
      inputTokens,
      outputTokens,
    },
  };
}
