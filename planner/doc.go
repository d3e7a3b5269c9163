// Package planner turns requirements into a plan (plan.json, see
// docs/control-plane.md): it resolves them with pipeline/resolve against a
// package index, makes one node per resolved package, marks it "reuse"
// when the index already has a wheel that runs on the target
// (PYTHON_VERSION, PLATFORM_TAG; manylinux/musllinux compatibility with the
// legacy manylinux1/2010/2014 aliases; py3-none-any and abi3) and "build"
// otherwise, gives the plan a fresh run_id and writes OUTPUT_DIR/plan.json
// atomically.
//
// # Wiring
//
// The HTTP handler (POST /plan) and the CLI (refinery-worker plan) build one
// Planner from the configuration and call it:
//
//	idx, err := pyindex.New(pyindex.Config{
//		IndexURL: cfg.IndexURL, ExtraIndexURLs: pyindex.SplitIndexURLs(cfg.ExtraIndexURL),
//		Username: cfg.IndexUsername, Password: cfg.IndexPassword,
//		CacheDir: cfg.CacheDir, PythonVersion: cfg.PythonVersion, Logger: log,
//	})
//	overrides, err := resolve.ParseOverrides(cfg.PlanOverridesJSON)
//	strategy, err := resolve.ParseStrategy(cfg.UpgradeStrategy)
//	p, err := planner.New(idx, idx, planner.Config{
//		PythonVersion: cfg.PythonVersion, PlatformTag: cfg.PlatformTag,
//		OutputDir: cfg.OutputDir, Strategy: strategy, MaxDeps: cfg.MaxDeps,
//		Overrides: overrides, Logger: log,
//	})
//	plan, err := p.Plan(ctx, cfg.RequirementsPath) // also writes OUTPUT_DIR/plan.json
//	err = planner.WriteTable(os.Stdout, plan)        // the CLI's table
//
// POST /plan can run the same call through [Jobs] to answer within the
// control-plane's 30 s budget, or with 202 and a job id to fetch later.
//
// [Planner.PlanRequirements] plans already-parsed entries, and
// [Planner.PlanInput] also takes constraints and input wheels (whose
// versions the pinned strategy keeps). Errors from resolution keep their
// types: *resolve.ConflictError, resolve.ErrTooManyDeps, resolve.ErrNotFound,
// *reqfile.LineError; answer them as 422 rather than 500. A Planner is safe
// for concurrent use, but each call resolves afresh; the index client's
// memo makes repeated calls cheap, so build a new pyindex.Client per
// request if index freshness matters.
//
// [Poller] plans the control-plane's pending inputs (docs/control-plane.md) with the
// same Planner, reading uploads through objstore.Store when their metadata
// lists no requirements:
//
//	store, err := objstore.New(objstore.Config{Endpoint: cfg.ObjectStoreEndpoint,
//		Bucket: cfg.ObjectStoreBucket, AccessKey: cfg.ObjectStoreAccessKey,
//		SecretKey: cfg.ObjectStoreSecretKey, UseSSL: cfg.ObjectStoreUseSSL})
//	poller := planner.NewPoller(cpClient, store, p, planner.PollerConfig{Interval: cfg.PlanPollInterval})
//	go poller.Run(ctx) // when CONTROL_PLANE_URL is set and PLAN_POLL_INTERVAL > 0
package planner
