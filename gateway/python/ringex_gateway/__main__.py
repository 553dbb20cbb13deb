"""``python -m ringex_gateway``: the same as the ``ringex-gateway`` command."""

from ringex_gateway.cli import main

raise SystemExit(main())
