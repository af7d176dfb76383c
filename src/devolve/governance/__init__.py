"""Joint decision-making: the partnership board, its voting rules, proposals, and the decision log.

* :mod:`.records` — the board's vocabulary (members, rules, proposals, votes) as frozen records;
* :mod:`.voting` — the voting rules as one pure function (:func:`~.voting.tally`);
* :mod:`.proposals` — reading a proposal file and working out what it would enact;
* :mod:`.log` — the decision log's entries, their hash chain, and the board's state replayed from it;
* :mod:`.store` — the log in the database the books live in (SQLite or PostgreSQL);
* :mod:`.demo` — the seeded, synthetic board year ``devolve ledger init DEAL --demo`` records.
"""
