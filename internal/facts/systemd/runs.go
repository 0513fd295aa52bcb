package systemd

// SetKernelCmdlines gives the boot's condition evaluation the booted kernel command lines
// (ConditionKernelCommandLine=, ConditionEnvironment=), read when a condition first needs
// them; BootOf sets them from the image's boot chain. Call it before the first Runs.
func (b *Boot) SetKernelCmdlines(fn func() ([]KernelCmdline, error)) {
	b.condMu.Lock()
	defer b.condMu.Unlock()
	b.eval.SetKernelCmdlines(fn)
}

// RunsPulledIn is Runs for a unit something else than the image's links and dependencies pulls
// into the boot (a generator: cloud-init's pulls in cloud-init.target and what it wants): its
// conditions and asserts evaluated on the image, as systemd 252 tests them when the job runs
// (src/core/unit.c unit_test_condition, unit_test_assert).
func (b *Boot) RunsPulledIn(u *Unit) RunVerdict {
	if !u.Found() {
		return RunVerdict{Runs: False, Why: u.Name + " has no unit file (or is masked)"}
	}
	r, err := b.conditions(u.Name, u)
	switch {
	case err != nil:
		return RunVerdict{Runs: Unknown, Why: "its conditions could not be read", Err: err}
	case r == nil || r.Holds == True:
		return RunVerdict{Runs: True, Why: u.Name + " " + r.String()}
	case r.Holds == False:
		verb := "skips"
		if r.Deciding != nil && r.Deciding.Assert {
			verb = "fails"
		}
		return RunVerdict{Runs: False, Condition: r.Deciding, Why: "systemd " + verb + " " + u.Name + ": " + r.String()}
	}
	return RunVerdict{Runs: Unknown, Condition: r.Deciding, Why: u.Name + " runs unless its condition fails on the VM: " + r.String()}
}
