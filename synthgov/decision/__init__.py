"""The decision pipeline: what `check`, `audit`, `status`, `approve` and the predictions of
`release new` and `revalidate` all judge with, so that they cannot disagree.

- `trust`: the trust root, read from the base side (its policy, registry and clock);
- `sides`: the two sides compared (a commit or the working tree) and what changed;
- `contexts`: a release's context, read from both sides, which the gates judge;
- `evidence`, `revocations`: what a context holds about approvals and revoked artifacts;
- `changes`: the changes a pull request makes outside its releases;
- `decide`: every release and change of a pull request, failing closed;
- `run`: one run of the gate (`check`), `impact` and `schedule` beside it;
- `status`: the state of every release at HEAD; `withdrawals`: what takes a passed release
  away; `expiry`: the waivers and keys that expire soon (warnings only); `subjects`: what
  a reviewer approves;
- `review`: one review of a subject's approvals, its checks numbered, and which reviewer
  fills which role; `digests`: what an approval binds (the digest of its subject);
- `engine`: every gate on a context, waivers applied (`waivers`), fail closed; `rules`:
  one policy rule judged against a report; `findings`: what the decision says.
"""
