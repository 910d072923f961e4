package notify

// NotificationOf lets the tests read a sample as a deliverer does.
var NotificationOf = notificationOf
