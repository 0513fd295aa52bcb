package testfixture

// DigitalOceanScriptQuirks is the compliant tree changed where DigitalOcean's validation script
// (digitalocean/marketplace-partners@65b85d4:scripts/99-img-check.sh) judges otherwise than
// DigitalOcean means, for the comparison of docs/digitalocean.md: root's and a user's passwords
// locked the way `passwd -l` locks them (a "!" before the hash: no password can match, yet the
// script, which passes only "!", "!!" and "*", says they have a password), and that user's
// authorized_keys holding a key (the script quotes its glob and never reads a user's .ssh).
var DigitalOceanScriptQuirks = Change{
	"/etc/passwd": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n" +
		"_chrony:x:101:102:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin\ndeploy:x:1000:1000:Deploy:/home/deploy:/bin/bash\n",
	"/etc/shadow": "root:!" + deployHash + ":19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\nsshd:*:19800:0:99999:7:::\n_chrony:!:19800::::::\n" +
		"deploy:!" + deployHash + ":19800:0:99999:7:::\n",
	"/etc/group":                        "root:x:0:\ndeploy:x:1000:\n",
	"/home/deploy/.ssh/authorized_keys": plantedKey,
}
