"""The composition root: the app, the runtime it shares, its job handlers and processes.

Everything is put together here and nowhere below: `asgi.create_app` joins the route lists
of the API, the device API, the control API and the console into one Starlette app;
`setup` prepares the database and builds a node's runtime and the handlers of every kind
of job; `processes` is the app of one API process under `fleetsim serve --workers N`.

The packages form layers, each importing only those below it (import-linter checks this,
see `[tool.importlinter]` in pyproject.toml):

    cli | testing            the `fleetsim` command; the client kit and pytest plugin
    app                      this package: composes the app and its processes
    console | control        the web console; the operator's control API
    api                      the Super SIM REST API and the device API: routes, wire shapes
    http                     what the web layers share: endpoint, parameters, runtime
    demo                     seeded demo data, made through the services
    simulation               the traffic generator
    resources                the Super SIM resources' rules (services, lifecycles)
    network                  the simulated network: devices, networks, events, usage
    billing                  billing periods, data limits, activation, rates, usage rollups
    webhooks | inventory     webhook delivery; the warehouse of physical cards
    engine                   the generic job engine and the shared clock
    db                       tables, units of work, migrations
    contract | core          the Super SIM contract; clock, SIDs, errors, paging

`a | b`: neither imports the other. The domain (demo down to core) never imports the web
framework.
"""
