"""The mailbox pages, one module per family: lists, reading, folders; pages holds what they share."""
