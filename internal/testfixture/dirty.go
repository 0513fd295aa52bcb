package testfixture

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DirtyTree copies the compliant tree and breaks it the ways a build leaves a guest.
func DirtyTree(t testing.TB) string {
	root := filepath.Join(t.TempDir(), "root")
	if b, err := exec.Command("cp", "-a", filepath.Join(Dir(t), "trees", "clean"), root).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	files := map[string]string{
		"etc/passwd":                      "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\ntester:x:1001:1001::/home/tester:/bin/bash\nkeeper:x:1002:1002::/home/keeper:/bin/bash\n",
		"etc/shadow":                      "root:$6$salt$abcdefgh:19800:0:99999:7:::\nsshd:*:19800::::::\ntester:$y$j9T$x$y:19800::::::\nkeeper::19800::::::\n",
		"etc/group":                       "root:x:0:\ntester:x:1001:\nkeeper:x:1002:\n",
		"etc/gshadow":                     "root:*::\ntester:!::\nkeeper:!::\n",
		"root/.bash_history":              "sudo cat /etc/shadow\n",
		"root/.ssh/authorized_keys":       "ssh-ed25519 AAAA build\n",
		"home/tester/.ssh/id_ed25519":     "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n",
		"home/tester/.python_history":     "import os\n",
		"home/keeper/.lesshst":            "",
		"etc/ssh/sshd_config":             "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nMatch User backup\n  ClientAliveInterval 30\n",
		"etc/ssh/sshd_config.d/10-x.conf": "ClientAliveInterval 60\n",
		"etc/ssh/ssh_host_ed25519_key":    "key\n",
		"lib/udev/rules.d/75-persistent-net-generator.rules": "ACTION==\"add\", SUBSYSTEM==\"net\", IMPORT{program}=\"write_net_rules\"\n",
		"etc/default/grub":                         "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=tty1 quiet\"\n",
		"boot/grub/grub.cfg":                       "menuentry 'Debian' {\n\tlinux\t/vmlinuz root=UUID=x ro console=tty1 quiet\n}\n",
		"etc/waagent.conf":                         "AutoUpdate.Enabled=n\nResourceDisk.EnableSwap=y\n",
		"etc/fstab":                                "UUID=x / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n",
		"swapfile":                                 "swap",
		"etc/cloud/cloud.cfg.d/90-swap.cfg":        "swap:\n  filename: /swap.img\n  size: 2G\nmounts:\n  - [ /swap.img, none, swap, sw, 0, 0 ]\n  - [ ephemeral0, /mnt ]\n",
		"etc/ufw/ufw.conf":                         "ENABLED=yes\nLOGLEVEL=low\n",
		"usr/lib/systemd/system/ufw.service":       "[Unit]\nDescription=ufw\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
		"etc/resolv.conf":                          "nameserver 192.0.2.53\n",
		"etc/udev/rules.d/70-persistent-net.rules": "SUBSYSTEM==\"net\", ATTR{address}==\"00:15:5d:00:00:01\", NAME=\"eth0\"\n",
		"etc/netplan/60-static.yaml":               "network:\n  version: 2\n  ethernets:\n    eth0:\n      match:\n        macaddress: \"00:15:5d:00:00:01\"\n      dhcp4: true\n",
		"etc/machine-id":                           "0123456789abcdef0123456789abcdef\n",
		"var/log/syslog":                           "build log\n",
		"var/log/syslog.1":                         "old\n",
		"var/log/apt/history.log.1.gz":             "gz",
		"tmp/build.tar":                            "x",
		"tmp/keep-me":                              "kept by keep_paths",
		"var/tmp/cache":                            "x",
		"opt/app/cache/blob":                       "cache",
		// sentinels: outside every documented set, they must come out byte for byte
		"opt/app/data.db":             "customer data",
		"etc/myapp.conf":              "setting=1\n",
		"root/notes.txt":              "notes",
		"home/keeper/work/report.txt": "report",
		"srv/www/index.html":          "<h1>hi</h1>",
		"var/lib/app/state":           "state",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.Remove(full)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// homes belong to their users, as useradd leaves them (userdel -r checks)
	for home, id := range map[string]int{"home/tester": 1001, "home/keeper": 1002} {
		filepath.Walk(filepath.Join(root, home), func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, id, id) })
	}
	os.Remove(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/walinuxagent.service"))
	os.Symlink("/usr/lib/systemd/system/ufw.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ufw.service"))
	return root
}

// Sentinels are files of DirtyTree outside every documented step; they must survive hardening.
var Sentinels = map[string]string{
	"opt/app/data.db": "customer data", "etc/myapp.conf": "setting=1\n", "root/notes.txt": "notes",
	"home/keeper/work/report.txt": "report", "srv/www/index.html": "<h1>hi</h1>", "var/lib/app/state": "state",
	"tmp/keep-me": "kept by keep_paths",
}
