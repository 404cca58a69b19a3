"""The demo (`shenbao demo`, `shenbao demo-otp`): organisations, users of every role, practice calls and
sample applications. It composes every stage, so it sits above them all (core < orgs < … < projects < demo)
and no stage imports it."""
