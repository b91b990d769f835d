# Dovecot (Pigeonhole) Sieve, run before each user's own script: file
# what gospamd tagged as spam into the junk folder, the folder the IMAP
# trainer's junk_folder names.
require ["fileinto", "mailbox"];

if header :is "X-Spam-Flag" "YES" {
  fileinto :create "junkmail";
  stop;
}
