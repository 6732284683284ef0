/**
 * Each exported name of the package means one thing: TopicSubscription is a
 * JmsTopic's subscription (what subscribe() resolves to); a consumer's topic
 * name or pattern is TopicPattern. The type checks run under tsc (test/tsconfig.json).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { TopicSubscription as JmsSubscription } from '../../../src/client/jms-topic.js';
import { type JmsTopic, type SubscribeOptions, type TopicPattern, TopicSubscription } from '../../../src/index.js';

describe('public names', () => {
  it('TopicSubscription is the JmsTopic subscription class', () => {
    expect(TopicSubscription).toBe(JmsSubscription);
    expectTypeOf<Awaited<ReturnType<JmsTopic['subscribe']>>>().toEqualTypeOf<TopicSubscription>();
  });

  it("a consumer's topics are TopicPatterns: names or regular expressions", () => {
    expectTypeOf<TopicPattern>().toEqualTypeOf<string | RegExp>();
    expectTypeOf<SubscribeOptions['topics']>().toEqualTypeOf<TopicPattern[] | undefined>();
    expectTypeOf<SubscribeOptions['topic']>().toEqualTypeOf<TopicPattern | undefined>();
  });
});
