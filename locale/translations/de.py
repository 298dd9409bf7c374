"""German: msgid -> msgstr. A plural entry maps its singular msgid to (singular, plural); an entry
with a context is keyed (context, msgid). Applied by `manage.py update_translations`
(docs/TRANSLATING.md). The user is addressed as "Sie", as in Thunderbird and Gmail."""

TRANSLATIONS = {
    # -- accounts: the admin --------------------------------------------------------------------
    "Person": "Person",
    "Access": "Zugriff",
    "Dates": "Daten",
    "2FA": "2FA",
    "Reset second factor (the user enrols again at next login)": (
        "Zweiten Faktor zurücksetzen (der Benutzer richtet ihn bei der nächsten Anmeldung neu ein)"
    ),
    "Second factor reset for %(count)d user(s).": "Zweiter Faktor für %(count)d Benutzer zurückgesetzt.",
    "Disable selected users": "Ausgewählte Benutzer deaktivieren",
    "%(count)d user(s) disabled.": "%(count)d Benutzer deaktiviert.",
    "IMAP password": "IMAP-Passwort",
    "SMTP password": "SMTP-Passwort",
    "Only if it differs from the IMAP password.": "Nur wenn es sich vom IMAP-Passwort unterscheidet.",
    "Use the IMAP password for SMTP": "IMAP-Passwort auch für SMTP verwenden",
    "A password is stored. Leave empty to keep it.": "Ein Passwort ist gespeichert. Leer lassen, um es zu behalten.",
    "Required.": "Erforderlich.",
    "Enter the IMAP password.": "Geben Sie das IMAP-Passwort ein.",
    "Enter the SMTP password, or tick 'Use the IMAP password'.": (
        "Geben Sie das SMTP-Passwort ein oder wählen Sie „IMAP-Passwort auch für SMTP verwenden“."
    ),
    "A password cannot contain line breaks.": "Ein Passwort darf keine Zeilenumbrüche enthalten.",
    "recent connection tests": "letzte Verbindungstests",
    "IMAP": "IMAP",
    "SMTP": "SMTP",
    "Certificates": "Zertifikate",
    "Sent mail": "Gesendete Nachrichten",
    "sending held": "Versand angehalten",
    "password stored": "Passwort gespeichert",
    "Sending resumed: %(count)d held message is queued again.": (
        "Versand fortgesetzt: %(count)d angehaltene Nachricht ist wieder in der Warteschlange.",
        "Versand fortgesetzt: %(count)d angehaltene Nachrichten sind wieder in der Warteschlange.",
    ),
    "Too many connection tests in the last hour; try later.": (
        "Zu viele Verbindungstests in der letzten Stunde; versuchen Sie es später erneut."
    ),
    "Test connection": "Verbindung testen",
    "Webmail administration": "Webmail-Verwaltung",
    "Webmail admin": "Webmail-Verwaltung",
    "Users, mail accounts and identities": "Benutzer, E-Mail-Konten und Identitäten",
    # -- accounts: sign-in, second factor, settings ---------------------------------------------
    "The time step of the last code used.": "Der Zeitschritt des zuletzt verwendeten Codes.",
    "authenticator app": "Authenticator-App",
    "authenticator apps": "Authenticator-Apps",
    "backup codes": "Backup-Codes",
    "backup code": "Backup-Code",
    "Email address": "E-Mail-Adresse",
    "That email address and password do not match. Check both and try again.": (
        "E-Mail-Adresse und Passwort passen nicht zusammen. Prüfen Sie beides und versuchen Sie es erneut."
    ),
    "This account is disabled. Ask your administrator.": (
        "Dieses Konto ist deaktiviert. Wenden Sie sich an Ihren Administrator."
    ),
    "Code": "Code",
    "A current code from your authenticator app, or a backup code": (
        "Ein aktueller Code aus Ihrer Authenticator-App oder ein Backup-Code"
    ),
    "Code from the new app": "Code aus der neuen App",
    "Off": "Aus",
    "%(seconds)d seconds": "%(seconds)d Sekunden",
    "Default sender address": "Standard-Absenderadresse",
    "Choose one of your own sender addresses.": "Wählen Sie eine Ihrer eigenen Absenderadressen.",
    "Your name": "Ihr Name",
    "Time zone": "Zeitzone",
    "Language": "Sprache",
    "Date format": "Datumsformat",
    "List density": "Listendichte",
    "Reading pane": "Lesebereich",
    "Appearance": "Erscheinungsbild",
    "Undo send": "Senden rückgängig machen",
    "Compose in plain text": "Als reinen Text verfassen",
    "Show remote images from people I have written to": (
        "Externe Bilder von Personen anzeigen, denen ich geschrieben habe"
    ),
    "Site default (%(zone)s)": "Standard der Website (%(zone)s)",
    "Dates and times are shown, and “send later” is read, in this zone.": (
        "Datum und Uhrzeit werden in dieser Zeitzone angezeigt, und „Später senden“ wird in ihr gelesen."
    ),
    "Site default (%(seconds)d s)": "Standard der Website (%(seconds)d s)",
    "How long a sent message waits, so that you can still undo it.": (
        "Wie lange eine gesendete Nachricht wartet, damit Sie das Senden noch rückgängig machen können."
    ),
    "The browser's": "Die des Browsers",
    "Pages, dates and the mail the app writes (the attribution line of a reply) use it.": (
        "Gilt für die Seiten, für Datumsangaben und für die Texte, die die App in E-Mails schreibt "
        "(die Zitatzeile einer Antwort)."
    ),
    "New messages start in plain text instead of rich text.": (
        "Neue Nachrichten beginnen als reiner Text statt mit Formatierung."
    ),
    "Shown at the top of the page.": "Wird oben auf der Seite angezeigt.",
    "The address new messages are sent from unless you choose another.": (
        "Die Adresse, von der neue Nachrichten gesendet werden, sofern Sie keine andere wählen."
    ),
    "A name cannot contain line breaks or control characters.": (
        "Ein Name darf keine Zeilenumbrüche oder Steuerzeichen enthalten."
    ),
    # -- accounts: models -----------------------------------------------------------------------
    "email address": "E-Mail-Adresse",
    "full name": "vollständiger Name",
    "active": "aktiv",
    "Unticking this disables the user without deleting their data.": (
        "Ohne Häkchen ist der Benutzer deaktiviert, ohne dass seine Daten gelöscht werden."
    ),
    "staff": "Mitarbeiter",
    "May use the admin panel.": "Darf die Verwaltung benutzen.",
    "date joined": "Beitrittsdatum",
    "time zone": "Zeitzone",
    "undo send window (seconds)": "Zeitfenster zum Rückgängigmachen (Sekunden)",
    "How long a sent message waits so it can still be cancelled. Empty: the site default.": (
        "Wie lange eine gesendete Nachricht wartet, damit sie noch abgebrochen werden kann. "
        "Leer: der Standard der Website."
    ),
    "compose in plain text": "als reinen Text verfassen",
    "New messages start in plain text instead of rich text; each message can still switch.": (
        "Neue Nachrichten beginnen als reiner Text statt mit Formatierung; jede Nachricht kann noch umschalten."
    ),
    "language": "Sprache",
    "The language of the pages and of the mail the app writes. Empty: the browser's.": (
        "Die Sprache der Seiten und der Texte, die die App in E-Mails schreibt. Leer: die des Browsers."
    ),
    "date format": "Datumsformat",
    "The language's own": "Das der Sprache",
    "list density": "Listendichte",
    "Comfortable": "Komfortabel",
    "Compact": "Kompakt",
    "reading pane": "Lesebereich",
    "On a wide screen, open messages beside the list instead of in its place.": (
        "Auf einem breiten Bildschirm Nachrichten neben der Liste öffnen statt an ihrer Stelle."
    ),
    "theme": "Design",
    "Follow the system": "Wie das System",
    "Light": "Hell",
    "Dark": "Dunkel",
    "show remote images from people I have written to": (
        "externe Bilder von Personen anzeigen, denen ich geschrieben habe"
    ),
    "Remote images in mail from an address you have sent mail to are shown without asking.": (
        "Externe Bilder in E-Mails von Adressen, an die Sie geschrieben haben, werden ohne Nachfrage angezeigt."
    ),
    "user": "Benutzer",
    "users": "Benutzer",
    "TLS (implicit)": "TLS (implizit)",
    "STARTTLS": "STARTTLS",
    "None (loopback only)": "Keine (nur Loopback)",
    "label": "Bezeichnung",
    "IMAP host": "IMAP-Server",
    "IMAP port": "IMAP-Port",
    "IMAP security": "IMAP-Verschlüsselung",
    "IMAP username": "IMAP-Benutzername",
    "Leave empty to use the user's email address.": "Leer lassen, um die E-Mail-Adresse des Benutzers zu verwenden.",
    "IMAP password (encrypted)": "IMAP-Passwort (verschlüsselt)",
    "SMTP host": "SMTP-Server",
    "SMTP port": "SMTP-Port",
    "SMTP security": "SMTP-Verschlüsselung",
    "SMTP username": "SMTP-Benutzername",
    "Leave empty to use the IMAP username.": "Leer lassen, um den IMAP-Benutzernamen zu verwenden.",
    "SMTP password (encrypted)": "SMTP-Passwort (verschlüsselt)",
    "Empty means the IMAP password is used.": "Leer bedeutet, dass das IMAP-Passwort verwendet wird.",
    "extra trusted CA certificates (PEM)": "zusätzliche vertrauenswürdige CA-Zertifikate (PEM)",
    "For a server whose certificate is signed by your own CA. Verification stays on.": (
        "Für einen Server, dessen Zertifikat von Ihrer eigenen CA signiert ist. Die Prüfung bleibt aktiv."
    ),
    "trust this certificate (SHA-256 fingerprint)": "diesem Zertifikat vertrauen (SHA-256-Fingerabdruck)",
    "Accept exactly this server certificate even though no CA vouches for it. "
    "Use only for a self-signed certificate you have checked yourself.": (
        "Genau dieses Serverzertifikat annehmen, auch wenn keine CA dafür bürgt. Nur für ein selbst "
        "signiertes Zertifikat verwenden, das Sie selbst geprüft haben."
    ),
    "Sent folder": "Ordner „Gesendet“",
    "Where copies of sent mail go. Empty: the folder the server marks as Sent.": (
        "Wohin Kopien gesendeter Nachrichten kommen. Leer: der Ordner, den der Server als „Gesendet“ kennzeichnet."
    ),
    "the server saves sent mail itself": "der Server speichert gesendete Nachrichten selbst",
    "Tick if the mail server already files submitted mail in Sent, so no second copy is made.": (
        "Ankreuzen, wenn der Mailserver eingelieferte Nachrichten bereits unter „Gesendet“ ablegt, "
        "damit keine zweite Kopie entsteht."
    ),
    "sending held since": "Versand angehalten seit",
    "why sending is held": "Grund für das Anhalten des Versands",
    "mail account": "E-Mail-Konto",
    "mail accounts": "E-Mail-Konten",
    "An unencrypted connection is only allowed to a server on this machine (localhost).": (
        "Eine unverschlüsselte Verbindung ist nur zu einem Server auf diesem Rechner (localhost) erlaubt."
    ),
    "Enter a SHA-256 fingerprint: 64 hex digits, colons optional.": (
        "Geben Sie einen SHA-256-Fingerabdruck ein: 64 Hexadezimalziffern, Doppelpunkte optional."
    ),
    "The account whose SMTP server sends mail from this address.": (
        "Das Konto, dessen SMTP-Server E-Mails von dieser Adresse versendet."
    ),
    "display name": "Anzeigename",
    "address": "Adresse",
    "signature": "Signatur",
    "Plain text, for messages written in plain text.": "Reiner Text, für Nachrichten in reinem Text.",
    "rich signature": "formatierte Signatur",
    "HTML, sanitized like a message body, for rich-text messages. Empty: the plain signature is used.": (
        "HTML, bereinigt wie ein Nachrichtentext, für formatierte Nachrichten. Leer: die Textsignatur wird verwendet."
    ),
    "default": "Standard",
    "identity": "Identität",
    "identities": "Identitäten",
    "A display name cannot contain line breaks.": "Ein Anzeigename darf keine Zeilenumbrüche enthalten.",
    "The account must belong to the same user.": "Das Konto muss demselben Benutzer gehören.",
    # -- accounts: views ------------------------------------------------------------------------
    "You signed in with a backup code. %(count)d backup codes are left.": (
        "Sie haben sich mit einem Backup-Code angemeldet. Es bleiben %(count)d Backup-Codes."
    ),
    "That code has already been used. Wait for the next code from your app.": (
        "Dieser Code wurde bereits verwendet. Warten Sie auf den nächsten Code Ihrer App."
    ),
    "Too many wrong codes. Try again in %(seconds)d seconds.": (
        "Zu viele falsche Codes. Versuchen Sie es in %(seconds)d Sekunden erneut."
    ),
    "That code is not right. Check the time on your phone and try the current code.": (
        "Dieser Code ist nicht richtig. Prüfen Sie die Uhrzeit Ihres Telefons und versuchen Sie den aktuellen Code."
    ),
    "You are signed out.": "Sie sind abgemeldet.",
    "Your password has been changed.": "Ihr Passwort wurde geändert.",
    "Your preferences are saved.": "Ihre Einstellungen sind gespeichert.",
    "Too many connection tests. Try again after %(time)s.": (
        "Zu viele Verbindungstests. Versuchen Sie es nach %(time)s erneut."
    ),
    "Nothing was pinned: confirm that you checked the fingerprint first.": (
        "Nichts wurde festgelegt: Bestätigen Sie zuerst, dass Sie den Fingerabdruck geprüft haben."
    ),
    "Nothing was pinned: that is not the certificate the last test saw. Test again.": (
        "Nichts wurde festgelegt: Das ist nicht das Zertifikat, das der letzte Test gesehen hat. Testen Sie erneut."
    ),
    "Nothing was pinned: the server could not be reached (%(reason)s).": (
        "Nichts wurde festgelegt: Der Server war nicht erreichbar (%(reason)s)."
    ),
    "Nothing was pinned: the server now presents another certificate. Test the connection again.": (
        "Nichts wurde festgelegt: Der Server zeigt jetzt ein anderes Zertifikat. Testen Sie die Verbindung erneut."
    ),
    "%(account)s now trusts the certificate with SHA-256 %(fingerprint)s. Test the connection again.": (
        "%(account)s vertraut jetzt dem Zertifikat mit SHA-256 %(fingerprint)s. Testen Sie die Verbindung erneut."
    ),
    # -- outbox: the admin ----------------------------------------------------------------------
    "SMTP exchanges": "SMTP-Dialoge",
    "Delivery": "Zustellung",
    "Worker": "Worker",
    "Copy in Sent": "Kopie in „Gesendet“",
    "subject": "Betreff",
    "(no subject)": "(kein Betreff)",
    "size": "Größe",
    "Retry now": "Jetzt erneut versuchen",
    "Cancel": "Abbrechen",
    "%(count)d message queued to be sent now.": (
        "%(count)d Nachricht wird jetzt gesendet.",
        "%(count)d Nachrichten werden jetzt gesendet.",
    ),
    "%(count)d message cancelled.": (
        "%(count)d Nachricht abgebrochen.",
        "%(count)d Nachrichten abgebrochen.",
    ),
    "%(count)d was skipped: it was not waiting to be sent.": (
        "%(count)d wurde übersprungen: Sie wartete nicht auf den Versand.",
        "%(count)d wurden übersprungen: Sie warteten nicht auf den Versand.",
    ),
    # -- outbox: composing ----------------------------------------------------------------------
    "%(what)s cannot contain line breaks or control characters.": (
        "%(what)s darf keine Zeilenumbrüche oder Steuerzeichen enthalten."
    ),
    "The message this answers could not be named safely.": (
        "Die Nachricht, auf die geantwortet wird, konnte nicht sicher angegeben werden."
    ),
    "Addresses cannot contain line breaks or control characters.": (
        "Adressen dürfen keine Zeilenumbrüche oder Steuerzeichen enthalten."
    ),
    "This is not a list of email addresses.": "Das ist keine Liste von E-Mail-Adressen.",
    "Check the addresses: separate them with commas, like Ann <ann@example.org>, bob@example.org.": (
        "Prüfen Sie die Adressen: Trennen Sie sie durch Kommas, etwa Ann <ann@example.org>, bob@example.org."
    ),
    "Address groups are not supported; list the addresses instead.": (
        "Adressgruppen werden nicht unterstützt; führen Sie die Adressen stattdessen einzeln auf."
    ),
    "%(address)s needs SMTPUTF8 (non-ASCII letters before the @). This webmail cannot send to such "
    "addresses yet, whatever your mail server offers.": (
        "%(address)s erfordert SMTPUTF8 (Nicht-ASCII-Zeichen vor dem @). Dieses Webmail kann an solche "
        "Adressen noch nicht senden, unabhängig davon, was Ihr Mailserver anbietet."
    ),
    "%(address)s: the domain is not valid.": "%(address)s: Die Domain ist ungültig.",
    "%(address)s is not a valid email address.": "%(address)s ist keine gültige E-Mail-Adresse.",
    "The message headers could not be built safely.": "Die Kopfzeilen der Nachricht konnten nicht sicher erstellt werden.",
    "Choose a time within the next year.": "Wählen Sie einen Zeitpunkt innerhalb des nächsten Jahres.",
    "A message may be at most %(limit)s as sent, attachments included. Attachments take about a "
    "third more than their size on disk.": (
        "Eine Nachricht darf beim Senden höchstens %(limit)s groß sein, Anhänge eingeschlossen. Anhänge "
        "belegen etwa ein Drittel mehr als ihre Größe auf der Festplatte."
    ),
    "The message is too large: the limit is %(limit)s as sent.": (
        "Die Nachricht ist zu groß: Die Grenze liegt beim Senden bei %(limit)s."
    ),
    "The message is too large: %(size)s as sent, and the limit is %(limit)s.": (
        "Die Nachricht ist zu groß: %(size)s beim Senden, die Grenze liegt bei %(limit)s."
    ),
    "Attachments take about a third more than their size on disk.": (
        "Anhänge belegen etwa ein Drittel mehr als ihre Größe auf der Festplatte."
    ),
    "This message is no longer on the server.": "Diese Nachricht ist nicht mehr auf dem Server.",
    "the original's attachments, fetched from the server when it is sent": (
        "die Anhänge des Originals, beim Senden vom Server geholt"
    ),
    "the original message, fetched from the server when it is sent": (
        "die Originalnachricht, beim Senden vom Server geholt"
    ),
    "Queued.": "In der Warteschlange.",
    "This message was already queued.": "Diese Nachricht war bereits in der Warteschlange.",
    "Reply": "Antworten",
    "Reply all": "Allen antworten",
    "Forward": "Weiterleiten",
    "Forward as attachment": "Als Anhang weiterleiten",
    "You have too many drafts. Send or discard some first.": (
        "Sie haben zu viele Entwürfe. Senden oder verwerfen Sie zuerst einige."
    ),
    "You were signed out. Sign in again in another tab; this page keeps your text.": (
        "Sie wurden abgemeldet. Melden Sie sich in einem anderen Tab erneut an; diese Seite behält Ihren Text."
    ),
    "Choose a file to attach.": "Wählen Sie eine Datei zum Anhängen.",
    "An attachment's name": "Der Name eines Anhangs",
    "Draft discarded.": "Entwurf verworfen.",
    "This draft can no longer be brought back.": "Dieser Entwurf kann nicht mehr wiederhergestellt werden.",
    "Draft restored.": "Entwurf wiederhergestellt.",
    "There is no such draft.": "Diesen Entwurf gibt es nicht.",
    "This draft was sent.": "Dieser Entwurf wurde gesendet.",
    "This draft was changed in another window.": "Dieser Entwurf wurde in einem anderen Fenster geändert.",
    "This draft was discarded.": "Dieser Entwurf wurde verworfen.",
    "This draft no longer exists: it was sent or discarded.": (
        "Dieser Entwurf existiert nicht mehr: Er wurde gesendet oder verworfen."
    ),
    "Ann <ann@example.org>, bob@example.org": "Ann <ann@example.org>, bob@example.org",
    "From": "Von",
    "To": "An",
    "Cc": "Kopie",
    "Bcc": "Blindkopie",
    "Subject": "Betreff",
    "Message": "Nachricht",
    "Plain text": "Reiner Text",
    "Attachments": "Anhänge",
    "Request a delivery receipt": "Zustellbestätigung anfordern",
    "Send later": "Später senden",
    "Optional. In your time zone, %(zone)s. Leave empty to send now.": (
        "Optional. In Ihrer Zeitzone, %(zone)s. Leer lassen, um sofort zu senden."
    ),
    "The subject": "Der Betreff",
    "The message this answers is not one of yours.": "Die Nachricht, auf die geantwortet wird, gehört nicht Ihnen.",
    "Choose a time in the future, or leave this empty to send now.": (
        "Wählen Sie einen Zeitpunkt in der Zukunft, oder lassen Sie das Feld leer, um sofort zu senden."
    ),
    "Add at least one recipient.": "Fügen Sie mindestens einen Empfänger hinzu.",
    "A signature can be at most %(count)d characters.": "Eine Signatur darf höchstens %(count)d Zeichen lang sein.",
    "The rich signature is too long.": "Die formatierte Signatur ist zu lang.",
    # -- outbox: states and models --------------------------------------------------------------
    "queued": "in der Warteschlange",
    "sending": "wird gesendet",
    "deferred": "zurückgestellt",
    "sent": "gesendet",
    "failed": "fehlgeschlagen",
    "held": "angehalten",
    "uncertain": "ungewiss",
    "cancelled": "abgebrochen",
    "not started": "nicht begonnen",
    "before data": "vor DATA",
    "data sent": "DATA gesendet",
    "not needed": "nicht nötig",
    "pending": "ausstehend",
    "saved": "gespeichert",
    "answered": "beantwortet",
    "forwarded": "weitergeleitet",
    "envelope sender": "Envelope-Absender",
    "Message-ID": "Message-ID",
    "message bytes": "Nachrichtenbytes",
    "delivery receipt requested": "Zustellbestätigung angefordert",
    "due": "fällig",
    "scheduled by the user": "vom Benutzer geplant",
    "next attempt": "nächster Versuch",
    "give up after": "aufgeben nach",
    "its resend": "ihr erneuter Versand",
    "accepted by the server": "vom Server angenommen",
    "rejected": "abgelehnt",
    "delivered": "zugestellt",
    "delayed": "verzögert",
    "bounced": "unzustellbar",
    "connect": "Verbinden",
    "TLS": "TLS",
    "authentication": "Anmeldung",
    "MAIL FROM": "MAIL FROM",
    "RCPT TO": "RCPT TO",
    "DATA": "DATA",
    "size check": "Größenprüfung",
    "open": "offen",
    "discarded": "verworfen",
    "The worker stopped after the message was sent and before the server's answer was recorded: "
    "it may or may not have been delivered. It will not be resent unless you ask.": (
        "Der Worker wurde angehalten, nachdem die Nachricht gesendet und bevor die Antwort des Servers "
        "festgehalten wurde: Sie wurde vielleicht zugestellt, vielleicht auch nicht. Sie wird nur auf "
        "Ihren Wunsch erneut gesendet."
    ),
    "sending is held for this account": "der Versand ist für dieses Konto angehalten",
    "the sender is not one of your addresses": "der Absender ist keine Ihrer Adressen",
    # -- outbox: answering, sending, the outbox pages -------------------------------------------
    "an unknown date": "(unbekanntes Datum)",
    "someone": "jemand",
    "On %(date)s, %(name)s wrote:": "Am %(date)s schrieb %(name)s:",
    "Date": "Datum",
    "You have reached the sending limit. You can send again at %(time)s.": (
        "Sie haben die Versandgrenze erreicht. Sie können ab %(time)s wieder senden."
    ),
    "You can only send from your own addresses.": "Sie können nur von Ihren eigenen Adressen senden.",
    "A message can have at most %(count)d recipients.": "Eine Nachricht darf höchstens %(count)d Empfänger haben.",
    "Signature saved for %(address)s.": "Signatur für %(address)s gespeichert.",
    "queued, sending at %(time)s": "in der Warteschlange, Versand um %(time)s",
    "deferred, retrying at %(time)s": "zurückgestellt, neuer Versuch um %(time)s",
    "sent to %(sent)d of %(total)d": "an %(sent)d von %(total)d gesendet",
    "failed: %(reason)s": "fehlgeschlagen: %(reason)s",
    "%(names)s and %(count)d more": "%(names)s und %(count)d weitere",
    "The message is now %(state)s.": "Die Nachricht ist jetzt %(state)s.",
    "Sending undone. The message is back in the composer.": (
        "Senden rückgängig gemacht. Die Nachricht ist wieder im Editor."
    ),
    "Sending undone. The message will not be sent.": "Senden rückgängig gemacht. Die Nachricht wird nicht gesendet.",
    "Cancelled.": "Abgebrochen.",
    "It is too late to cancel this message.": "Für das Abbrechen dieser Nachricht ist es zu spät.",
    "Sending now.": "Wird jetzt gesendet.",
    "This message is not waiting to be sent, so it cannot be retried.": (
        "Diese Nachricht wartet nicht auf den Versand und kann daher nicht erneut versucht werden."
    ),
    "There is nothing to send again: every recipient already has this message, or it is still being sent.": (
        "Es gibt nichts erneut zu senden: Alle Empfänger haben diese Nachricht schon, oder sie wird noch gesendet."
    ),
    "Queued again as a new message.": "Als neue Nachricht erneut in die Warteschlange gestellt.",
    # -- templates: shared ----------------------------------------------------------------------
    "Keyboard shortcuts": "Tastenkürzel",
    "None of the single keys work while you type in a field.": (
        "Keine der einzelnen Tasten wirkt, während Sie in einem Feld schreiben."
    ),
    "Show this list": "Diese Liste anzeigen",
    "Write a new message": "Neue Nachricht verfassen",
    "Reply (on a message)": "Antworten (in einer Nachricht)",
    "Reply all (on a message)": "Allen antworten (in einer Nachricht)",
    "Forward (on a message)": "Weiterleiten (in einer Nachricht)",
    "In the composer": "Im Editor",
    "Send": "Senden",
    "Close the composer; the draft is kept": "Editor schließen; der Entwurf bleibt erhalten",
    "Go to Cc / Bcc": "Zu Kopie / Blindkopie wechseln",
    "Bold, italic, underline (rich text)": "Fett, kursiv, unterstrichen (formatierter Text)",
    "Close": "Schließen",
    "Webmail": "Webmail",
    "Tested %(when)s": "Getestet am %(when)s",
    "The %(service)s server presented this certificate:": "Der %(service)s-Server hat dieses Zertifikat vorgelegt:",
    "Issued by": "Ausgestellt von",
    "Names": "Namen",
    "Valid": "Gültig",
    "SHA-256 fingerprint": "SHA-256-Fingerabdruck",
    "I have checked this fingerprint with the server's administrator.": (
        "Ich habe diesen Fingerabdruck mit dem Administrator des Servers abgeglichen."
    ),
    "Pin this certificate": "Diesem Zertifikat fest vertrauen",
    "The account then accepts exactly this certificate, for IMAP and SMTP alike, instead of asking a "
    "certificate authority; a new certificate must be trusted again.": (
        "Das Konto nimmt dann genau dieses Zertifikat an, für IMAP wie für SMTP, statt eine "
        "Zertifizierungsstelle zu fragen; einem neuen Zertifikat muss erneut vertraut werden."
    ),
    "An administrator can check this fingerprint and trust this certificate for the account.": (
        "Ein Administrator kann diesen Fingerabdruck prüfen und dem Zertifikat für das Konto vertrauen."
    ),
    # -- templates: accounts --------------------------------------------------------------------
    "Backup codes": "Backup-Codes",
    "Your backup codes": "Ihre Backup-Codes",
    "Each code signs you in once if you lose your phone. Store them somewhere safe now: they are "
    "shown only this once.": (
        "Jeder Code meldet Sie einmal an, falls Sie Ihr Telefon verlieren. Bewahren Sie sie jetzt an einem "
        "sicheren Ort auf: Sie werden nur dieses eine Mal angezeigt."
    ),
    "I have saved them": "Ich habe sie gespeichert",
    "New backup codes": "Neue Backup-Codes",
    "Make new backup codes": "Neue Backup-Codes erstellen",
    "Your old backup codes stop working. To go on, enter a current code from your authenticator app, "
    "or one of your backup codes.": (
        "Ihre alten Backup-Codes werden ungültig. Geben Sie zum Fortfahren einen aktuellen Code aus Ihrer "
        "Authenticator-App oder einen Ihrer Backup-Codes ein."
    ),
    "Too many attempts": "Zu viele Versuche",
    "Sign-in for this address is paused after too many wrong passwords. Try again in "
    "%(cooloff_time)s, or ask your administrator.": (
        "Die Anmeldung für diese Adresse ist nach zu vielen falschen Passwörtern pausiert. Versuchen Sie es "
        "in %(cooloff_time)s erneut oder wenden Sie sich an Ihren Administrator."
    ),
    "Back to sign in": "Zurück zur Anmeldung",
    "Sign in": "Anmelden",
    "Continue": "Weiter",
    "Change password": "Passwort ändern",
    "Settings": "Einstellungen",
    "Preferences": "Einstellungen",
    "Save preferences": "Einstellungen speichern",
    "Mail accounts": "E-Mail-Konten",
    "You have no mail account yet. Ask your administrator to add one.": (
        "Sie haben noch kein E-Mail-Konto. Bitten Sie Ihren Administrator, eines anzulegen."
    ),
    "Sender addresses": "Absenderadressen",
    "Signature": "Signatur",
    "No sender address has been assigned to you yet.": "Ihnen wurde noch keine Absenderadresse zugewiesen.",
    "Only an administrator can add sender addresses.": "Nur ein Administrator kann Absenderadressen hinzufügen.",
    "Remote images": "Externe Bilder",
    "Remote images are always shown for mail from these senders, unless a message fails the sender checks:": (
        "Externe Bilder werden in E-Mails dieser Absender immer angezeigt, außer eine Nachricht besteht die "
        "Absenderprüfung nicht:"
    ),
    "Stop showing images": "Bilder nicht mehr anzeigen",
    "Remote images are blocked for all senders until you choose to show them for a message or a sender.": (
        "Externe Bilder sind für alle Absender blockiert, bis Sie sie für eine Nachricht oder einen Absender "
        "anzeigen lassen."
    ),
    "Security": "Sicherheit",
    "Two-step verification is on.": "Die Bestätigung in zwei Schritten ist aktiviert.",
    "Replace authenticator": "Authenticator ersetzen",
    "%(counter)s backup code left.": (
        "%(counter)s Backup-Code übrig.",
        "%(counter)s Backup-Codes übrig.",
    ),
    "Two-step verification is off.": "Die Bestätigung in zwei Schritten ist deaktiviert.",
    "Turn it on": "Aktivieren",
    "Set up two-step verification": "Bestätigung in zwei Schritten einrichten",
    "Replace your authenticator": "Authenticator ersetzen",
    "Open an authenticator app on your phone (for example FreeOTP, Aegis or Google Authenticator).": (
        "Öffnen Sie eine Authenticator-App auf Ihrem Telefon (zum Beispiel FreeOTP, Aegis oder Google Authenticator)."
    ),
    "Scan this code, or type the key below.": "Scannen Sie diesen Code oder geben Sie den Schlüssel unten ein.",
    "QR code for your authenticator app": "QR-Code für Ihre Authenticator-App",
    "Key:": "Schlüssel:",
    "To replace your authenticator, confirm with a current code from the old one (or a backup "
    "code), then with a code from the new one.": (
        "Um Ihren Authenticator zu ersetzen, bestätigen Sie mit einem aktuellen Code des alten (oder einem "
        "Backup-Code) und dann mit einem Code des neuen."
    ),
    "Confirm": "Bestätigen",
    "Two-step verification": "Bestätigung in zwei Schritten",
    "Enter the 6-digit code from your authenticator app, or one of your backup codes.": (
        "Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App oder einen Ihrer Backup-Codes ein."
    ),
    "Verify": "Bestätigen",
    "Use a different account": "Ein anderes Konto verwenden",
    "Your account has no access to the admin panel.": "Ihr Konto hat keinen Zugriff auf die Verwaltung.",
    "Back to your mailbox": "Zurück zu Ihrem Postfach",
    # -- templates: base ------------------------------------------------------------------------
    "The list changed. Show it": "Die Liste hat sich geändert. Anzeigen",
    "Notify me of new mail": "Bei neuen E-Mails benachrichtigen",
    "New mail": "Neue E-Mail",
    "{count} unread in your Inbox": "{count} ungelesen im Posteingang",
    "Account": "Konto",
    "Compose": "Verfassen",
    "Outbox": "Postausgang",
    "Keys": "Tasten",
    "Admin": "Verwaltung",
    "Sign out": "Abmelden",
    "Your SMTP password was refused; your mail is waiting. Ask your administrator to update it.": (
        "Ihr SMTP-Passwort wurde abgelehnt; Ihre E-Mails warten. Bitten Sie Ihren Administrator, es zu aktualisieren."
    ),
    "Folders": "Ordner",
    # -- templates: outbox ----------------------------------------------------------------------
    "Link address (https://… or an email address):": "Linkadresse (https://… oder eine E-Mail-Adresse):",
    "Plain text has no bold, lists, links or images: the formatting will be lost. Switch to plain text?": (
        "Reiner Text kennt weder Fettdruck noch Listen, Links oder Bilder: Die Formatierung geht verloren. "
        "Zu reinem Text wechseln?"
    ),
    "Only PNG, JPEG, GIF and WebP images can go in a message; attach other files instead.": (
        "Nur PNG-, JPEG-, GIF- und WebP-Bilder können in eine Nachricht eingefügt werden; hängen Sie andere "
        "Dateien stattdessen an."
    ),
    "Formatting": "Formatierung",
    "Bold": "Fett",
    "Italic": "Kursiv",
    "Underline": "Unterstrichen",
    "Bulleted list": "Aufzählung",
    "Numbered list": "Nummerierte Liste",
    "Quote": "Zitat",
    "Link": "Link",
    "Remove formatting": "Formatierung entfernen",
    "Drafts": "Entwürfe",
    "Status": "Status",
    "The mail server refused to log your account in (a wrong SMTP password, or a way of logging in "
    "it does not accept), so nothing is sent from your account for now. The message goes out as "
    "soon as your administrator has fixed the account.": (
        "Der Mailserver hat die Anmeldung Ihres Kontos abgelehnt (ein falsches SMTP-Passwort oder ein "
        "Anmeldeverfahren, das er nicht annimmt), daher wird von Ihrem Konto vorerst nichts gesendet. Die "
        "Nachricht geht hinaus, sobald Ihr Administrator das Konto repariert hat."
    ),
    "The connection broke after the message was handed over and before the server confirmed it. It "
    "may or may not have arrived. It is not sent again unless you ask.": (
        "Die Verbindung brach ab, nachdem die Nachricht übergeben war und bevor der Server sie bestätigt hat. "
        "Sie ist vielleicht angekommen, vielleicht auch nicht. Sie wird nur auf Ihren Wunsch erneut gesendet."
    ),
    "Sent": "Gesendet",
    "Attempts": "Versuche",
    "filed by the mail server": "vom Mailserver abgelegt",
    "Cancel sending": "Senden abbrechen",
    "Send now": "Jetzt senden",
    "Send again": "Erneut senden",
    "Send again to the rejected recipients": "An die abgelehnten Empfänger erneut senden",
    "If it did arrive, sending again means the recipients get it twice.": (
        "Falls sie angekommen ist, erhalten die Empfänger sie bei erneutem Senden zweimal."
    ),
    "Recipients": "Empfänger",
    "Enhanced code": "Erweiterter Code",
    "Server reply": "Antwort des Servers",
    "Delivery log": "Zustellprotokoll",
    "Time": "Zeit",
    "Try": "Versuch",
    "Step": "Schritt",
    "Duration": "Dauer",
    "%(ms)s ms": "%(ms)s ms",
    "No attempt yet.": "Noch kein Versuch.",
    "New message": "Neue Nachricht",
    "Saving…": "Wird gespeichert…",
    "Saved {time}": "Gespeichert {time}",
    "Not saved ({reason}). Trying again soon; keep this page open.": (
        "Nicht gespeichert ({reason}). Neuer Versuch in Kürze; lassen Sie diese Seite geöffnet."
    ),
    "the server could not be reached": "der Server war nicht erreichbar",
    "you were signed out; sign in again in another tab": (
        "Sie wurden abgemeldet; melden Sie sich in einem anderen Tab erneut an"
    ),
    "Not saved: {reason}": "Nicht gespeichert: {reason}",
    "Not saved: changed in another window.": "Nicht gespeichert: in einem anderen Fenster geändert.",
    "Remove": "Entfernen",
    "Remove {name}": "{name} entfernen",
    "Sending as soon as the attachments have finished uploading…": (
        "Wird gesendet, sobald die Anhänge hochgeladen sind…"
    ),
    "Not sent: an attachment could not be uploaded (see above).": (
        "Nicht gesendet: Ein Anhang konnte nicht hochgeladen werden (siehe oben)."
    ),
    "Saved %(saved_at)s": "Gespeichert %(saved_at)s",
    "This draft was changed in another window. What you see here is not saved.": (
        "Dieser Entwurf wurde in einem anderen Fenster geändert. Was Sie hier sehen, ist nicht gespeichert."
    ),
    "Keep this version": "Diese Version behalten",
    "Load the other version": "Die andere Version laden",
    "Attached:": "Angehängt:",
    "Remove %(name)s": "%(name)s entfernen",
    "Forwarded with it:": "Wird mit weitergeleitet:",
    "Choose the attachments again: a browser cannot keep them when the form comes back.": (
        "Wählen Sie die Anhänge erneut: Ein Browser kann sie nicht behalten, wenn das Formular zurückkommt."
    ),
    "This message: {used} of the {limit} it may be, as sent.": (
        "Diese Nachricht: {used} der erlaubten {limit}, beim Senden gerechnet."
    ),
    "Discard": "Verwerfen",
    "Written": "Geschrieben",
    "Scheduled for": "Geplant für",
    "Size": "Größe",
    "Delivery receipt": "Zustellbestätigung",
    "requested": "angefordert",
    "not requested": "nicht angefordert",
    "“%(subject)s” was discarded.": "„%(subject)s“ wurde verworfen.",
    "Undo": "Rückgängig",
    "Saved": "Gespeichert",
    "%(count)s attachment": ("%(count)s Anhang", "%(count)s Anhänge"),
    "not yet copied to the mail server": "noch nicht auf den Mailserver kopiert",
    "No drafts. Whatever you write is saved here as you type, until you send it.": (
        "Keine Entwürfe. Was Sie schreiben, wird hier während des Tippens gespeichert, bis Sie es senden."
    ),
    "Pages": "Seiten",
    "Newer": "Neuer",
    "Page %(number)s of %(total)s": "Seite %(number)s von %(total)s",
    "Older": "Älter",
    "You have not sent anything yet.": "Sie haben noch nichts gesendet.",
    "Write a message": "Nachricht verfassen",
    "You cannot send mail yet": "Sie können noch keine E-Mails senden",
    "No sender address has been assigned to you, so there is no address your mail could come from.": (
        "Ihnen wurde keine Absenderadresse zugewiesen, daher gibt es keine Adresse, von der Ihre E-Mails kommen könnten."
    ),
    "Ask your administrator to add a sender address to your mail account. Only an administrator can "
    "add sender addresses.": (
        "Bitten Sie Ihren Administrator, Ihrem E-Mail-Konto eine Absenderadresse hinzuzufügen. Nur ein "
        "Administrator kann Absenderadressen hinzufügen."
    ),
    "Open settings": "Einstellungen öffnen",
    "Signature for %(address)s": "Signatur für %(address)s",
    "Plain-text signature": "Textsignatur",
    "For messages written in plain text. It goes below a line that says “-- ”.": (
        "Für Nachrichten in reinem Text. Sie steht unter einer Zeile mit „-- “."
    ),
    "Rich-text signature": "Formatierte Signatur",
    "For rich-text messages. Left empty, the plain-text signature is used. Without JavaScript, only "
    "the plain-text signature can be edited here.": (
        "Für formatierte Nachrichten. Bleibt sie leer, wird die Textsignatur verwendet. Ohne JavaScript kann "
        "hier nur die Textsignatur bearbeitet werden."
    ),
    "Save": "Speichern",
    # -- templates: the mailbox -----------------------------------------------------------------
    "Not junk": "Kein Spam",
    ("mark as junk", "Junk"): "Spam",
    "Delete for good": "Endgültig löschen",
    "Delete": "Löschen",
    "Move to": "Verschieben nach",
    "Move": "Verschieben",
    "Loading older messages…": "Ältere Nachrichten werden geladen…",
    "Older messages are still loading. Reload the page to see more.": (
        "Ältere Nachrichten werden noch geladen. Laden Sie die Seite neu, um mehr zu sehen."
    ),
    "Refreshing…": "Wird aktualisiert…",
    "The last refresh failed: %(reason)s": "Die letzte Aktualisierung ist fehlgeschlagen: %(reason)s",
    "Messages, newest first": "Nachrichten, neueste zuerst",
    "Select": "Auswählen",
    "Flag": "Markieren",
    "No messages in this folder.": "Keine Nachrichten in diesem Ordner.",
    "Answer": "Antworten",
    "Unflag": "Markierung entfernen",
    "Mark unread": "Als ungelesen markieren",
    "Select “%(subject)s”": "„%(subject)s“ auswählen",
    "Unread": "Ungelesen",
    "Flagged": "Markiert",
    "Show the conversation": "Unterhaltung anzeigen",
    "%(counter)s in conversation": ("%(counter)s in der Unterhaltung", "%(counter)s in der Unterhaltung"),
    "Has attachments": "Hat Anhänge",
    "Search mail": "E-Mails durchsuchen",
    "Where": "Wo",
    "This folder": "Dieser Ordner",
    "All folders": "Alle Ordner",
    "Search": "Suchen",
    "More options": "Weitere Optionen",
    "Body": "Text",
    "Since": "Seit",
    "Before": "Vor",
    "Unread only": "Nur ungelesene",
    "With attachments": "Mit Anhängen",
    "Mail folders": "E-Mail-Ordner",
    "No folders yet.": "Noch keine Ordner.",
    "Manage folders": "Ordner verwalten",
    "Actions on the selected messages": "Aktionen für die ausgewählten Nachrichten",
    "All": "Alle",
    "Mark read": "Als gelesen markieren",
    "This folder holds only other folders.": "Dieser Ordner enthält nur andere Ordner.",
    "Delete folder": "Ordner löschen",
    "Delete “%(name)s”?": "„%(name)s“ löschen?",
    "The folder and the %(counter)s message in it are deleted from the mail server. This cannot be undone.": (
        "Der Ordner und die %(counter)s Nachricht darin werden vom Mailserver gelöscht. Das lässt sich nicht "
        "rückgängig machen.",
        "Der Ordner und die %(counter)s Nachrichten darin werden vom Mailserver gelöscht. Das lässt sich nicht "
        "rückgängig machen.",
    ),
    "Folder": "Ordner",
    "Messages": "Nachrichten",
    "Rename": "Umbenennen",
    "A special folder: it keeps its name.": "Ein besonderer Ordner: Er behält seinen Namen.",
    "New name for %(name)s": "Neuer Name für %(name)s",
    "Delete %(name)s": "%(name)s löschen",
    "New folder": "Neuer Ordner",
    "Name": "Name",
    "Inside": "In",
    "(top level)": "(oberste Ebene)",
    "Create folder": "Ordner erstellen",
    "Welcome, %(name)s": "Willkommen, %(name)s",
    "You have no mail account yet.": "Sie haben noch kein E-Mail-Konto.",
    "Add one in Admin → Mail accounts": "Legen Sie eines an unter Verwaltung → E-Mail-Konten",
    "for yourself or for anyone on the team.": "für sich selbst oder für jemanden im Team.",
    "Back to %(name)s": "Zurück zu %(name)s",
    "Conversation (%(counter)s message)": (
        "Unterhaltung (%(counter)s Nachricht)",
        "Unterhaltung (%(counter)s Nachrichten)",
    ),
    "(unknown sender)": "(unbekannter Absender)",
    "Reply-To": "Antwort an",
    "This message is too large to show in full: only its beginning is shown. Its attachments can "
    "still be downloaded.": (
        "Diese Nachricht ist zu groß, um sie vollständig anzuzeigen: Nur ihr Anfang wird angezeigt. Ihre "
        "Anhänge können trotzdem heruntergeladen werden."
    ),
    "Remote images are blocked: loading them would tell the sender that you opened this message.": (
        "Externe Bilder sind blockiert: Sie zu laden würde dem Absender verraten, dass Sie diese Nachricht "
        "geöffnet haben."
    ),
    "Show remote images": "Externe Bilder anzeigen",
    "Always show images from %(address)s": "Bilder von %(address)s immer anzeigen",
    "Remote images from %(address)s are always shown.": "Externe Bilder von %(address)s werden immer angezeigt.",
    "You chose to always show images from %(address)s, but this message may not come from that "
    "sender: its images stay blocked.": (
        "Sie haben gewählt, Bilder von %(address)s immer anzuzeigen, aber diese Nachricht stammt vielleicht "
        "nicht von diesem Absender: Ihre Bilder bleiben blockiert."
    ),
    "Stop showing images from this sender": "Bilder dieses Absenders nicht mehr anzeigen",
    "Message text": "Nachrichtentext",
    "View": "Ansehen",
    "Some folders are still being loaded from the server; their messages may be missing from the "
    "results. Search again in a moment.": (
        "Einige Ordner werden noch vom Server geladen; ihre Nachrichten fehlen womöglich in den Ergebnissen. "
        "Suchen Sie gleich noch einmal."
    ),
    "%(counter)s message found": ("%(counter)s Nachricht gefunden", "%(counter)s Nachrichten gefunden"),
    "Search results, newest first": "Suchergebnisse, neueste zuerst",
    "Enter words to look for, or pick options.": "Geben Sie Suchbegriffe ein oder wählen Sie Optionen.",
    "%(counter)s message, oldest first": (
        "%(counter)s Nachricht, älteste zuerst",
        "%(counter)s Nachrichten, älteste zuerst",
    ),
    "Message from %(who)s": "Nachricht von %(who)s",
    "Open": "Öffnen",
    "To: %(recipients)s": "An: %(recipients)s",
    "Mail": "E-Mail",
    "Try again in a moment. If this goes on, ask your administrator to check the mail server.": (
        "Versuchen Sie es gleich noch einmal. Wenn das anhält, bitten Sie Ihren Administrator, den Mailserver "
        "zu prüfen."
    ),
    "Back to the folder": "Zurück zum Ordner",
    # -- the mailbox: models, store, warnings, views --------------------------------------------
    "folder": "Ordner",
    "Inbox": "Posteingang",
    "Junk": "Spam",
    "Trash": "Papierkorb",
    "Archive": "Archiv",
    "sender with remote images allowed": "Absender mit erlaubten externen Bildern",
    "senders with remote images allowed": "Absender mit erlaubten externen Bildern",
    "correspondent": "Kontakt",
    "correspondents": "Kontakte",
    "mail watch": "E-Mail-Überwachung",
    "mail watches": "E-Mail-Überwachungen",
    "Enter a folder name.": "Geben Sie einen Ordnernamen ein.",
    "That name is too long.": "Dieser Name ist zu lang.",
    "A folder name cannot contain line breaks or other control characters.": (
        "Ein Ordnername darf keine Zeilenumbrüche oder andere Steuerzeichen enthalten."
    ),
    "A folder name cannot contain “%(delimiter)s”; choose a parent folder instead.": (
        "Ein Ordnername darf „%(delimiter)s“ nicht enthalten; wählen Sie stattdessen einen übergeordneten Ordner."
    ),
    "A folder name cannot contain % or *.": "Ein Ordnername darf weder % noch * enthalten.",
    "Choose a folder to move the messages to.": "Wählen Sie einen Ordner, in den die Nachrichten verschoben werden.",
    "There is no Trash folder on the server.": "Auf dem Server gibt es keinen Papierkorb.",
    "There is no Junk folder on the server.": "Auf dem Server gibt es keinen Spam-Ordner.",
    "There is no Archive folder on the server.": "Auf dem Server gibt es keinen Archivordner.",
    "There is no Inbox.": "Es gibt keinen Posteingang.",
    "The messages are already in %(folder)s.": "Die Nachrichten sind bereits in %(folder)s.",
    "This message failed the sender domain's DMARC check: it may not come from who it claims.": (
        "Diese Nachricht hat die DMARC-Prüfung der Absenderdomain nicht bestanden: Sie stammt womöglich nicht "
        "von dem, der sie zu senden vorgibt."
    ),
    "This message was sent from a server the sender's domain does not allow (SPF failed).": (
        "Diese Nachricht wurde von einem Server gesendet, den die Domain des Absenders nicht erlaubt "
        "(SPF fehlgeschlagen)."
    ),
    "The sender's name shows the address %(shown)s, but the message comes from %(real)s.": (
        "Der Name des Absenders zeigt die Adresse %(shown)s, aber die Nachricht kommt von %(real)s."
    ),
    "an unknown address": "einer unbekannten Adresse",
    "The sender's domain %(domain)s mixes alphabets, a trick used to imitate other domains.": (
        "Die Domain des Absenders, %(domain)s, mischt Alphabete – ein Trick, mit dem andere Domains nachgeahmt werden."
    ),
    "There is already a folder called “%(name)s”.": "Es gibt bereits einen Ordner namens „%(name)s“.",
    "Unknown parent folder.": "Unbekannter übergeordneter Ordner.",
    "Folder “%(name)s” created.": "Ordner „%(name)s“ erstellt.",
    "The Inbox and the special folders cannot be renamed.": (
        "Der Posteingang und die besonderen Ordner können nicht umbenannt werden."
    ),
    "“%(old)s” renamed to “%(new)s”.": "„%(old)s“ in „%(new)s“ umbenannt.",
    "The Inbox and the special folders cannot be deleted.": (
        "Der Posteingang und die besonderen Ordner können nicht gelöscht werden."
    ),
    "Folder “%(name)s” deleted.": "Ordner „%(name)s“ gelöscht.",
    "This account has no folders.": "Dieses Konto hat keine Ordner.",
    "Unknown action.": "Unbekannte Aktion.",
    "Bad message selection.": "Ungültige Auswahl von Nachrichten.",
    "Select at least one message first.": "Wählen Sie zuerst mindestens eine Nachricht aus.",
    "%(n)d message marked as read.": (
        "%(n)d Nachricht als gelesen markiert.",
        "%(n)d Nachrichten als gelesen markiert.",
    ),
    "%(n)d message marked as unread.": (
        "%(n)d Nachricht als ungelesen markiert.",
        "%(n)d Nachrichten als ungelesen markiert.",
    ),
    "%(n)d message flagged.": ("%(n)d Nachricht markiert.", "%(n)d Nachrichten markiert."),
    "%(n)d message unflagged.": (
        "Markierung von %(n)d Nachricht entfernt.",
        "Markierung von %(n)d Nachrichten entfernt.",
    ),
    "%(n)d message deleted for good.": (
        "%(n)d Nachricht endgültig gelöscht.",
        "%(n)d Nachrichten endgültig gelöscht.",
    ),
    "%(n)d message moved to %(folder)s.": (
        "%(n)d Nachricht nach %(folder)s verschoben.",
        "%(n)d Nachrichten nach %(folder)s verschoben.",
    ),
    "no date": "kein Datum",
    "The mail server did not answer: %(reason)s": "Der Mailserver hat nicht geantwortet: %(reason)s",
    "%(counter)s unread message": ("%(counter)s ungelesene Nachricht", "%(counter)s ungelesene Nachrichten"),
    "Remote images cannot always be shown for this sender: the message may not come from who it claims.": (
        "Externe Bilder können für diesen Absender nicht immer angezeigt werden: Die Nachricht stammt "
        "womöglich nicht von dem, der sie zu senden vorgibt."
    ),
    "Remote images from %(address)s will always be shown.": "Externe Bilder von %(address)s werden immer angezeigt.",
    "Remote images from %(address)s will no longer be shown by default.": (
        "Externe Bilder von %(address)s werden nicht mehr automatisch angezeigt."
    ),
    # -- static/js (djangojs) -------------------------------------------------------------------
    "Put the address between < and >, like Ann <ann@example.org>.": (
        "Setzen Sie die Adresse zwischen < und >, etwa Ann <ann@example.org>."
    ),
    "%(address)s has no @.": "%(address)s enthält kein @.",
    "%(address)s has nothing before the @.": "%(address)s hat nichts vor dem @.",
    "%(address)s has no domain after the @.": "%(address)s hat keine Domain nach dem @.",
    "%(address)s needs SMTPUTF8 (non-ASCII letters before the @). This webmail cannot send to such addresses yet.": (
        "%(address)s erfordert SMTPUTF8 (Nicht-ASCII-Zeichen vor dem @). Dieses Webmail kann an solche "
        "Adressen noch nicht senden."
    ),
    "Suggestions": "Vorschläge",
    "Remove %(recipient)s": "%(recipient)s entfernen",
    # -- the outbox's words for each recipient, the keys, the mailbox's tools -------------------
    "Not handed to your mail server yet.": "Noch nicht an Ihren Mailserver übergeben.",
    "Your mail server accepted it and delivers it from there.": (
        "Ihr Mailserver hat sie angenommen und stellt sie von dort aus zu."
    ),
    "Your mail server could not take it yet; it is tried again later.": (
        "Ihr Mailserver konnte sie noch nicht annehmen; es wird später erneut versucht."
    ),
    "Your mail server refused it: it was not sent to this address.": (
        "Ihr Mailserver hat sie abgelehnt: Sie wurde nicht an diese Adresse gesendet."
    ),
    "A delivery report says it arrived.": "Laut Zustellbericht ist sie angekommen.",
    "A delivery report says it is delayed; the receiving server keeps trying.": (
        "Laut Zustellbericht verzögert sie sich; der empfangende Server versucht es weiter."
    ),
    "It could not be delivered: a report came back.": "Sie konnte nicht zugestellt werden: Ein Bericht kam zurück.",
    "Recipient": "Empfänger",
    "What happened": "Was geschah",
    "What the server said": "Was der Server antwortete",
    "the exchange with the mail server, step by step": "der Austausch mit dem Mailserver, Schritt für Schritt",
    "Go to the Inbox / Sent / Drafts": "Zum Posteingang / zu „Gesendet“ / zu den Entwürfen",
    "In a list of messages": "In einer Nachrichtenliste",
    "Next / previous message (on a message too)": "Nächste / vorherige Nachricht (auch in einer Nachricht)",
    "Open the message": "Nachricht öffnen",
    "Back to the list (on a message)": "Zurück zur Liste (in einer Nachricht)",
    "Select the message": "Nachricht auswählen",
    "These act on the selected messages, else on the one under the cursor or open:": (
        "Diese wirken auf die ausgewählten Nachrichten, sonst auf die unter dem Cursor oder die geöffnete:"
    ),
    "Flag or unflag": "Markieren oder Markierung entfernen",
    "Mark read / unread": "Als gelesen / ungelesen markieren",
    "Junk (in Junk: not junk)": "Spam (im Spam-Ordner: kein Spam)",
    "Move to a folder: type to filter, Enter moves": (
        "In einen Ordner verschieben: Tippen filtert, Eingabetaste verschiebt"
    ),
    "This message": "Diese Nachricht",
    "Print": "Drucken",
    "View source": "Quelltext anzeigen",
    "Download (.eml)": "Herunterladen (.eml)",
    "Move into a folder": "In einen Ordner verschieben",
    "Folder name": "Ordnername",
    "Type to filter": "Zum Filtern tippen",
    "No folder matches.": "Kein Ordner passt.",
    "↑ ↓ choose, Enter moves, Esc closes.": "↑ ↓ wählen, Eingabetaste verschiebt, Esc schließt.",
    "Mark all as read": "Alle als gelesen markieren",
    "Empty %(name)s": "%(name)s leeren",
    "Empty %(name)s?": "%(name)s leeren?",
    "The %(counter)s message in %(name)s is deleted from the mail server for good. This cannot be undone.": (
        "Die %(counter)s Nachricht in %(name)s wird endgültig vom Mailserver gelöscht. Das lässt sich nicht "
        "rückgängig machen.",
        "Alle %(counter)s Nachrichten in %(name)s werden endgültig vom Mailserver gelöscht. Das lässt sich "
        "nicht rückgängig machen.",
    ),
    "Other messages": "Weitere Nachrichten",
    "Menu": "Menü",
    "Sign out %(name)s": "%(name)s abmelden",
    "Choose a folder": "Ordner wählen",
    "Choose a message to read it here.": "Wählen Sie eine Nachricht, um sie hier zu lesen.",
    "Newer message": "Neuere Nachricht",
    "Older message": "Ältere Nachricht",
    "The formatted version of this message shows nothing readable: its plain-text version is shown instead.": (
        "Die formatierte Fassung dieser Nachricht zeigt nichts Lesbares: Stattdessen wird ihre Textfassung angezeigt."
    ),
    "Remote images are shown because you have written to %(address)s (your setting).": (
        "Externe Bilder werden angezeigt, weil Sie an %(address)s geschrieben haben (Ihre Einstellung)."
    ),
    "Attachments:": "Anhänge:",
    "These messages are no longer on the server.": "Diese Nachrichten sind nicht mehr auf dem Server.",
    "Print the conversation": "Unterhaltung drucken",
    "mail watcher": "E-Mail-Überwachung",
    "mail watchers": "E-Mail-Überwachungen",
    "Only the Trash and Junk folders can be emptied.": "Nur der Papierkorb und der Spam-Ordner können geleert werden.",
    "[Cut here: %(shown)s of %(size)s are shown. Download the message to see all of it.]": (
        "[Hier abgeschnitten: %(shown)s von %(size)s werden angezeigt. Laden Sie die Nachricht herunter, um "
        "alles zu sehen.]"
    ),
    "%(folder)s is empty: %(n)d message deleted for good.": (
        "%(folder)s ist leer: %(n)d Nachricht endgültig gelöscht.",
        "%(folder)s ist leer: %(n)d Nachrichten endgültig gelöscht.",
    ),
}
