package filesystem

// Xattr is one extended attribute of an inode: its full name ("user.comment",
// "security.selinux") and its value.
type Xattr struct {
	Name  string
	Value []byte
}

// MaxXattrValue bounds one attribute's value, as Linux does (XATTR_SIZE_MAX): a larger size
// field is corrupt, never an allocation.
const MaxXattrValue = 64 << 10

// XattrVolume is a Volume that reads extended attributes.
type XattrVolume interface {
	Volume
	// Xattrs returns an inode's extended attributes. An area that cannot be read (corrupt,
	// failing its checksum) is an error naming it; the attributes read from the inode's other
	// areas are returned with it, so that a caller sees what could be read and what could not.
	Xattrs(ino uint64) ([]Xattr, error)
}
