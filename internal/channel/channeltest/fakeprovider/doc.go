// Package fakeprovider is the machinery the loopback provider fakes share (slacktest,
// teamstest, smstest, pagerdutytest, telegramtest): what was the same in each of them, and
// nothing of what makes one provider differ from another.
//
//   - Log records the requests a fake accepted and refused, counts them, and wakes the tests
//     waiting for a number of accepted ones (WaitFor), rather than letting them poll.
//   - Limiter is a token bucket per key (a webhook, an account, a chat), the shape in which
//     providers document their rate limits; RetryAfter turns its wait into the whole seconds a
//     Retry-After header carries.
//   - Queue holds the failures a test injects, answered in order.
//   - Random makes the ids, secrets and tokens a fake hands out.
//   - Do and DecodeJSON send a request to a fake and read its answer, for the fake's own tests.
//
// A fake keeps its own routes, request checks, error bodies and answers, and the provider's
// documentation links beside them. All the types here are safe for concurrent use; a fake may
// call them while holding its own lock, since they never call back into it.
package fakeprovider
